import { describe, expect, it } from 'vitest';
import { ServerClock } from '../../src/internal/server-clock';

describe('ServerClock', () => {
  it('places a server time no later than the truth, using the tightest bound of the last two windows', () => {
    let now = 0;
    const clock = new ServerClock(() => now);
    expect(clock.localTime(5_000)).toBeUndefined();
    // true offset (server − local) is 900: a call sent at local 100 ran at local 150 → server 1050
    clock.observe(100, 1_050);
    expect(clock.localTime(2_000)).toBe(2_000 - 951); // 1049: before the truth (1100)
    // a call that ran right away gives a tighter bound
    clock.observe(300, 1_200);
    expect(clock.localTime(2_000)).toBe(1_099);
    // a new window starts with a looser bound: the previous window's still counts
    now = 5_000;
    clock.observe(4_000, 5_400);
    expect(clock.localTime(2_000)).toBe(1_099);
    // once the previous window is over 10 s old, only the current one counts
    now = 10_500;
    expect(clock.localTime(2_000)).toBe(2_000 - 1_401);
    // with no call for 10 s, nothing bounds it
    now = 20_001;
    expect(clock.localTime(2_000)).toBeUndefined();
  });

  it('ranAt: within [sent, woke] by the bound; the wake-up time when there is none', () => {
    let now = 0;
    const clock = new ServerClock(() => now);
    expect(clock.ranAt(100, 2_000, 5_000)).toBe(2_000);
    clock.observe(0, 900); // offset at most 901
    now = 2_000;
    expect(clock.ranAt(100, 2_000, 1_400)).toBe(499);
    // never before the send, never after the wake-up
    expect(clock.ranAt(600, 2_000, 1_400)).toBe(600);
    expect(clock.ranAt(100, 2_000, 3_500)).toBe(2_000);
  });
});
