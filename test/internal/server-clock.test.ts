import { describe, expect, it } from 'vitest';
import { ServerClock } from '../../src/internal/server-clock';

describe('ServerClock', () => {
  it('places a server time no later than the truth, using the tightest recent bound', () => {
    let now = 0;
    const clock = new ServerClock(() => now);
    expect(clock.localTime(5_000)).toBeUndefined();
    // true offset (server − local) is 900: a call sent at local 100 ran at local 150 → server 1050
    clock.observe(100, 1_050);
    expect(clock.localTime(2_000)).toBe(2_000 - 951); // 1049: before the truth (1100)
    // a call that ran right away gives a tighter bound
    clock.observe(300, 1_200);
    expect(clock.localTime(2_000)).toBe(1_099);
    // a looser one does not replace it while it is recent
    now = 5_000;
    clock.observe(4_000, 5_400);
    expect(clock.localTime(2_000)).toBe(1_099);
    // bounds older than 10 s are dropped, then replaced by the next one
    now = 10_500;
    expect(clock.localTime(2_000)).toBeUndefined();
    clock.observe(10_000, 10_950);
    expect(clock.localTime(11_000)).toBe(10_049);
  });

  it('ranAt: within [sent, woke] when a bound is known, else the send time', () => {
    let now = 0;
    const clock = new ServerClock(() => now);
    expect(clock.ranAt(100, 2_000, 5_000)).toBe(100);
    clock.observe(0, 900); // offset at most 901
    now = 2_000;
    expect(clock.ranAt(100, 2_000, 1_400)).toBe(499);
    // a bound that would place it after the wake-up is not trusted
    expect(clock.ranAt(100, 2_000, 3_500)).toBe(100);
  });
});
