import { describe, expect, it } from 'vitest';
import { formatTick, niceTicks } from './nice-ticks';

describe('niceTicks', () => {
  it('covers a round range with steps of 1, 2 or 5 x 10^k', () => {
    expect(niceTicks(0, 10)).toEqual({ min: 0, max: 10, step: 2, values: [0, 2, 4, 6, 8, 10], decimals: 0 });
  });

  it('extends a ragged range outward to tick multiples', () => {
    const t = niceTicks(0.13, 0.92);
    expect(t.min).toBe(0);
    expect(t.max).toBe(1);
    expect(t.step).toBe(0.2);
    expect(t.values).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(t.values.map((v) => formatTick(v, t))).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
  });

  it('handles large and negative ranges', () => {
    // range 3000 -> nice 5000; step nice(5000 / 4 = 1250) = 1000.
    expect(niceTicks(0, 3000).values).toEqual([0, 1000, 2000, 3000]);
    expect(niceTicks(-7, 3).values).toEqual([-8, -6, -4, -2, 0, 2, 4]);
  });

  it('widens a zero-width or non-finite range', () => {
    expect(niceTicks(5, 5).values).toEqual([4.4, 4.6, 4.8, 5, 5.2, 5.4, 5.6]);
    expect(niceTicks(0, 0)).toMatchObject({ min: -1, max: 1 });
    expect(niceTicks(Number.NaN, Infinity)).toMatchObject({ min: 0, max: 1 });
  });
});
