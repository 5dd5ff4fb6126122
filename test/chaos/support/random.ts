/**
 * The chaos suite's one source of randomness: a seeded generator (mulberry32), so a failing run
 * can be repeated from the seed it printed (`CHAOS_SEED=<n> npm run test:chaos`). Timing still
 * varies between runs; the checkers count violations, never durations.
 */
export interface Random {
  readonly seed: number;
  /** In [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

export function seeded(seed: number): Random {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number],
    chance: (p) => next() < p,
  };
}

/** The run's seed: CHAOS_SEED, or a fresh one (printed by the caller). */
export function runSeed(): number {
  const given = process.env.CHAOS_SEED;
  return given ? Number(given) : Math.floor(Math.random() * 2 ** 31);
}
