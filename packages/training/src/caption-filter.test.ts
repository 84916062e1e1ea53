import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import type { WebCaptionLabel } from '@mllm/data';
import { filterByScore, removalQuality, scoreDistribution } from './caption-filter';

describe('filterByScore', () => {
  it('keeps the pairs at or above a cosine threshold', () => {
    expect(filterByScore([0.1, 0.28, 0.5, -0.2], { threshold: 0.28 })).toEqual({ kept: [false, true, true, false], threshold: 0.28 });
  });

  it('keeps the asked share of highest scores, and says at what score it cut', () => {
    const { kept, threshold } = filterByScore([0.9, 0.1, 0.5, 0.7, 0.3], { keep: 0.6 });
    expect(kept).toEqual([true, false, true, true, false]);
    expect(threshold).toBe(0.5);
    expect(filterByScore([0.2, 0.4], { keep: 1 }).kept).toEqual([true, true]);
  });

  it('needs exactly one rule', () => {
    expect(() => filterByScore([0.1], {})).toThrow(/exactly one/);
    expect(() => filterByScore([0.1], { threshold: 0.2, keep: 0.5 })).toThrow(/exactly one/);
  });
});

describe('removalQuality', () => {
  it('scores the removed pairs against the known noise as a hand count does', () => {
    // removed: 0, 1, 2, 5; noisy: 0, 1, 3, 4. Removed noise: 0, 1 -> precision 2/4, recall 2/4.
    const kept = [false, false, false, true, true, false, true, true];
    const noisy = [true, true, false, true, true, false, false, false];
    expect(removalQuality(kept, noisy)).toEqual({ pairs: 8, removed: 4, removedShare: 0.5, precision: 0.5, recall: 0.5, keptNoise: 0.5 });
  });

  it('agrees with an independent count over a random pool', () => {
    const rng = new Rng(9);
    const noisy = Array.from({ length: 1000 }, () => rng.next() < 0.4);
    // a filter that is right 85% of the time
    const kept = noisy.map((n) => (rng.next() < 0.85 ? !n : n));
    const pairs = noisy.map((n, i) => ({ n, removed: !kept[i] }));
    const tp = pairs.filter((p) => p.n && p.removed).length;
    const q = removalQuality(kept, noisy);
    expect(q.precision).toBeCloseTo(tp / pairs.filter((p) => p.removed).length, 12);
    expect(q.recall).toBeCloseTo(tp / pairs.filter((p) => p.n).length, 12);
    expect(q.precision).toBeGreaterThan(0.75);
    expect(q.recall).toBeGreaterThan(0.8);
  });

  it('refuses decisions and labels of different lengths', () => {
    expect(() => removalQuality([true], [true, false])).toThrow(/1 decisions for 2 labels/);
  });
});

describe('scoreDistribution', () => {
  it('bins, averages and counts removals per label', () => {
    const scores = [0.95, 0.9, 0.3, -0.5, 0.99];
    const labels: WebCaptionLabel[] = ['clean', 'clean', 'wrong', 'unrelated', 'wrong'];
    const kept = scores.map((s) => s >= 0.5);
    const d = scoreDistribution(scores, labels, kept);
    expect(d.byLabel.clean).toMatchObject({ pairs: 2, removedShare: 0 });
    expect(d.byLabel.clean!.mean).toBeCloseTo(0.925, 12);
    expect(d.byLabel.wrong).toMatchObject({ pairs: 2, removedShare: 0.5 });
    expect(d.byLabel.unrelated).toMatchObject({ pairs: 1, removedShare: 1, mean: -0.5 });
    expect(d.histogram.reduce((a, b) => a + b)).toBe(5);
    // [0.9, 1.0) holds 0.95 and 0.9; 0.99 too; 1.0 itself would land in the last bin
    expect(d.histogram[19]).toBe(3);
    expect(d.histogram[13]).toBe(1); // 0.3
    expect(d.histogram[5]).toBe(1); // -0.5
    expect(d.quantiles.p50).toBe(0.9);
  });
});
