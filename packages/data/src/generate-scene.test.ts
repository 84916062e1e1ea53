import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { generateScene, cellCentre, JITTER } from './generate-scene';
import { ALL_CATEGORIES, CELLS, categoryOf } from './scene';
import { categoryStats } from './pope';

const scenes = (n: number, seed = 1) => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => generateScene(rng, `s${i}`));
};

describe('generateScene', () => {
  it('places 1-4 objects, one per cell, in CELLS order, jittered within ±2 px', () => {
    const counts = new Set<number>();
    for (const s of scenes(500)) {
      counts.add(s.objects.length);
      const idx = s.objects.map((o) => CELLS.indexOf(o.cell));
      expect(idx).toEqual([...new Set(idx)].sort((a, b) => a - b));
      for (const o of s.objects) {
        const c = cellCentre(o.cell);
        expect(Math.abs(o.x - c.x)).toBeLessThanOrEqual(JITTER);
        expect(Math.abs(o.y - c.y)).toBeLessThanOrEqual(JITTER);
      }
    }
    expect([...counts].sort()).toEqual([1, 2, 3, 4]);
  });

  it('is deterministic for a seed', () => {
    expect(scenes(50, 7)).toEqual(scenes(50, 7));
    expect(scenes(50, 7)).not.toEqual(scenes(50, 8));
  });

  it('has a skewed category distribution with same-colour co-occurrence', () => {
    const all = scenes(4000);
    const freq = new Map<string, number>();
    for (const s of all) for (const o of s.objects) freq.set(categoryOf(o), (freq.get(categoryOf(o)) ?? 0) + 1);
    expect(freq.size).toBe(ALL_CATEGORIES.length); // every category occurs
    const values = [...freq.values()];
    expect(Math.max(...values) / Math.min(...values)).toBeGreaterThan(5);
    // a red circle makes a red square likelier than a blue square does (dominant colour)
    const st = categoryStats(all);
    const given = (a: 'red circle' | 'blue square') => st.cooccurrence[a]['red square'] / st.frequency[a];
    expect(given('red circle')).toBeGreaterThan(1.5 * given('blue square'));
  });
});

describe('generateScene positionStep', () => {
  it('keeps the standard draws at step 1 and snaps centres to finer steps when asked', () => {
    const a = generateScene(new Rng(5), 'a');
    const b = generateScene(new Rng(5), 'a', { positionStep: 1 });
    expect(b).toEqual(a);
    const offsets = new Set<number>();
    const rng = new Rng(6);
    for (let i = 0; i < 200; i++)
      for (const o of generateScene(rng, `s${i}`, { positionStep: 0.5 }).objects) {
        const dx = o.x - cellCentre(o.cell).x;
        expect(Math.abs(dx)).toBeLessThanOrEqual(JITTER);
        expect(Number.isInteger(dx * 2)).toBe(true);
        offsets.add(dx);
      }
    expect(offsets.size).toBe(2 * 2 * JITTER + 1); // -2, -1.5, ..., 2
  });

  it('refuses a step that does not divide the jitter', () => {
    expect(() => generateScene(new Rng(1), 'x', { positionStep: 0.3 })).toThrow(/positionStep must divide JITTER/);
  });
});

describe('generateScene minBrightness', () => {
  it('draws a brightness per object in [minBrightness, 1] only when asked for', () => {
    expect(generateScene(new Rng(5), 'a').objects.every((o) => o.brightness === undefined)).toBe(true);
    const rng = new Rng(7);
    const values = Array.from({ length: 100 }, (_, i) => generateScene(rng, `s${i}`, { minBrightness: 0.5 })).flatMap((s) => s.objects.map((o) => o.brightness!));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    expect(Math.max(...values) - Math.min(...values)).toBeGreaterThan(0.3);
    expect(() => generateScene(new Rng(1), 'x', { minBrightness: 0 })).toThrow(/minBrightness must be in \(0, 1\]/);
  });
});
