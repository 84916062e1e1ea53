import type { WebCaptionLabel } from '@mllm/data';

/**
 * CLIP filtering's decision and how well it did: which pairs a score keeps, and the removed
 * part scored against the pool's known noise. Pure functions of numbers, so each is checked
 * against a count by hand.
 */

/** Keep pairs scoring >= `threshold`, or the `keep` share of highest scores (ties at the cut all kept). */
export function filterByScore(scores: readonly number[], rule: { threshold?: number; keep?: number }): { kept: boolean[]; threshold: number } {
  if ((rule.threshold === undefined) === (rule.keep === undefined)) throw new Error('filterByScore: give exactly one of threshold or keep');
  let threshold = rule.threshold;
  if (threshold === undefined) {
    const sorted = [...scores].sort((a, b) => b - a);
    const count = Math.max(1, Math.round(rule.keep! * scores.length));
    threshold = sorted[Math.min(count, sorted.length) - 1] ?? Infinity;
  }
  return { kept: scores.map((s) => s >= threshold), threshold };
}

/** What the filter removed, measured against which pairs were really noise. */
export interface RemovalQuality {
  pairs: number;
  removed: number;
  removedShare: number;
  /** Of the removed pairs, the share that was noise (NaN when nothing was removed). */
  precision: number;
  /** Of the noisy pairs, the share that was removed (NaN when there was no noise). */
  recall: number;
  /** Share of the kept pairs that are still noise. */
  keptNoise: number;
}

export function removalQuality(kept: readonly boolean[], noisy: readonly boolean[]): RemovalQuality {
  if (kept.length !== noisy.length) throw new Error(`removalQuality: ${kept.length} decisions for ${noisy.length} labels`);
  let removed = 0;
  let removedNoise = 0;
  let noise = 0;
  for (let i = 0; i < kept.length; i++) {
    if (noisy[i]) noise++;
    if (!kept[i]) {
      removed++;
      if (noisy[i]) removedNoise++;
    }
  }
  const keptCount = kept.length - removed;
  return {
    pairs: kept.length,
    removed,
    removedShare: removed / kept.length,
    precision: removedNoise / removed,
    recall: removedNoise / noise,
    keptNoise: keptCount === 0 ? NaN : (noise - removedNoise) / keptCount,
  };
}

/** The scores' distribution: quantiles of all, the mean per label, and the removed share per label. */
export interface ScoreDistribution {
  quantiles: Quantiles;
  /** Per label: its pairs, their mean score and quantiles, and the share of them the filter removed. */
  byLabel: Partial<Record<WebCaptionLabel, { pairs: number; mean: number; quantiles: Quantiles; removedShare: number }>>;
  /** Counts in 20 equal bins of cosine similarity over [-1, 1] (bin k covers [-1 + k/10, -1 + (k+1)/10)). */
  histogram: number[];
}

export interface Quantiles {
  p05: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
}

/** Nearest-rank quantiles (the value at floor(p n) of the ascending scores). */
function quantiles(values: readonly number[]): Quantiles {
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  return { p05: q(0.05), p25: q(0.25), p50: q(0.5), p75: q(0.75), p95: q(0.95) };
}

export function scoreDistribution(scores: readonly number[], labels: readonly WebCaptionLabel[], kept: readonly boolean[]): ScoreDistribution {
  const byLabel: ScoreDistribution['byLabel'] = {};
  for (const label of new Set(labels)) {
    const idx = labels.flatMap((l, i) => (l === label ? [i] : []));
    byLabel[label] = {
      pairs: idx.length,
      mean: idx.reduce((a, i) => a + scores[i]!, 0) / idx.length,
      quantiles: quantiles(idx.map((i) => scores[i]!)),
      removedShare: idx.filter((i) => !kept[i]).length / idx.length,
    };
  }
  const histogram = new Array<number>(20).fill(0);
  for (const s of scores) histogram[Math.min(19, Math.max(0, Math.floor((s + 1) * 10)))]!++;
  return { quantiles: quantiles(scores), byLabel, histogram };
}
