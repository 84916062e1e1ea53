import { describe, it, expect } from 'vitest';
import { Rng } from './rng';

describe('Rng', () => {
  it('is reproducible from a seed and forks independent streams', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    expect([a.next(), a.int(10), a.normal()]).toEqual([b.next(), b.int(10), b.normal()]);
    expect(new Rng(1).fork('x').next()).not.toBe(new Rng(1).fork('y').next());
    const draws = Array.from({ length: 5000 }, () => a.next());
    const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
  });

  it('weighted draws keys in proportion to their weights and rejects weights that cannot be drawn from', () => {
    const rng = new Rng(3);
    const counts = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 20000; i++) counts[rng.weighted({ a: 5, b: 3, c: 0 })]++;
    expect(counts.c).toBe(0);
    expect(counts.a / 20000).toBeCloseTo(5 / 8, 1);
    expect(counts.b / 20000).toBeCloseTo(3 / 8, 1);
    // one draw per call, so the same seed replays the same choices
    const replay = (seed: number) => Array.from({ length: 8 }, ((r) => () => r.weighted({ x: 1, y: 1 }))(new Rng(seed)));
    expect(replay(9)).toEqual(replay(9));
    expect(() => rng.weighted({ a: 0, b: 0 })).toThrow(/positive sum/);
    expect(() => rng.weighted({ a: -1, b: 2 })).toThrow(/>= 0/);
  });
});
