// Type-level assertions for the fixtures in this folder, which are compiled (tsc), never run.

/** true when A and B are the same type (not merely assignable). */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when `T` is `true`. */
export function expectType<T extends true>(): T | undefined {
  return undefined;
}
