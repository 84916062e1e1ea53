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
});
