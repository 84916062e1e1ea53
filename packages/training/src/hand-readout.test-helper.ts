/**
 * The heads' computations written out with plain numbers, as the independent side of their
 * tests: LayerNorm at its initialisation, a linear read-out, softmax and log-softmax.
 */

/** LayerNorm with weight 1 and bias 0 (its initialisation), epsilon 1e-5. */
export function layerNormAtInit(v: readonly number[]): number[] {
  const mean = v.reduce((a, b) => a + b) / v.length;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
  return v.map((e) => (e - mean) / Math.sqrt(variance + 1e-5));
}

/** `weight` [out][in] times `x`, plus `bias`. */
export function linearReadout(weight: readonly number[][], bias: readonly number[], x: readonly number[]): number[] {
  return weight.map((row, k) => row.reduce((sum, wk, i) => sum + wk * x[i]!, bias[k]!));
}

export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const e = logits.map((x) => Math.exp(x - max));
  const total = e.reduce((a, b) => a + b);
  return e.map((x) => x / total);
}

/** -log softmax(logits)[target], through log-sum-exp. */
export function nll(logits: readonly number[], target: number): number {
  const max = Math.max(...logits);
  return max + Math.log(logits.reduce((s, v) => s + Math.exp(v - max), 0)) - logits[target]!;
}
