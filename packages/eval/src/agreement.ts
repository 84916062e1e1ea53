/**
 * How far a judge agrees with a reference scorer. HaELM (Wang et al. 2023, arXiv:2308.15126)
 * reports a learned judge's accuracy against human labels; here the reference is the exact
 * checker, and Cohen's kappa (Cohen 1960) discounts the agreement two raters reach by chance
 * (a judge that always says "hallucinates" on a set that mostly does scores a high accuracy and
 * kappa 0). Rubric judges (LLaVA-Bench's "GPT scoring") are compared with Spearman's rank
 * correlation, as a score scale of 1-10 is only ordinal.
 */

/** Share of positions where the two label lists agree (NaN for empty lists, as there is nothing to agree on). */
export function accuracy<T>(predicted: readonly T[], reference: readonly T[]): number {
  sameLength(predicted, reference, 'accuracy');
  if (reference.length === 0) return NaN;
  return predicted.filter((p, i) => p === reference[i]).length / reference.length;
}

/**
 * Cohen's kappa of two raters over the same items: (p_o - p_e) / (1 - p_e), p_o the observed
 * agreement, p_e the agreement expected from each rater's label shares alone. 1 is perfect
 * agreement, 0 chance level, negative worse than chance. NaN when p_e = 1 (both raters gave
 * one and the same label to every item: kappa is 0/0 there, as in scikit-learn).
 */
export function cohenKappa<T>(a: readonly T[], b: readonly T[]): number {
  sameLength(a, b, 'cohenKappa');
  const n = a.length;
  if (n === 0) return NaN;
  const labels = [...new Set([...a, ...b])];
  const observed = a.filter((x, i) => x === b[i]).length / n;
  const expected = labels.reduce((sum, label) => sum + (count(a, label) / n) * (count(b, label) / n), 0);
  if (expected === 1) return NaN;
  return (observed - expected) / (1 - expected);
}

/**
 * Ranks 1..n with ties sharing the mean of the ranks they span (the "average" method of
 * scipy.stats.rankdata): [10, 20, 20, 30] -> [1, 2.5, 2.5, 4].
 */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]![0] === order[start]![0]) end++;
    const rank = (start + end) / 2 + 1; // mean of the 1-based ranks start+1 .. end+1
    for (let k = start; k <= end; k++) ranks[order[k]![1]] = rank;
    start = end + 1;
  }
  return ranks;
}

/** Pearson's correlation; NaN when either list is constant or has fewer than 2 items. */
export function pearson(x: readonly number[], y: readonly number[]): number {
  sameLength(x, y, 'pearson');
  const n = x.length;
  if (n < 2) return NaN;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * Spearman's rank correlation: Pearson's on the average ranks, so ties are handled as
 * scipy.stats.spearmanr handles them. NaN when either list is constant.
 */
export function spearman(x: readonly number[], y: readonly number[]): number {
  sameLength(x, y, 'spearman');
  for (const v of [...x, ...y]) if (!Number.isFinite(v)) throw new Error(`spearman: every value must be a finite number, got ${v}`);
  return pearson(averageRanks(x), averageRanks(y));
}

function count<T>(list: readonly T[], label: T): number {
  return list.filter((x) => x === label).length;
}

function sameLength(a: readonly unknown[], b: readonly unknown[], what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: the two lists must rate the same items, got ${a.length} and ${b.length} values`);
}
