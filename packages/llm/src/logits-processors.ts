/**
 * Next-token logits processors with HF transformers' semantics (generation/logits_process.py),
 * on one row of plain numbers (float64), in place. `generate` applies them in HF's order:
 * repetition penalty, suppressed tokens, then (sampling only) temperature, top-k, top-p.
 * Pure (no tfjs) on purpose: part of `@mllm/llm/decoding`, which @mllm/onnx's runtime imports to pick tokens alike.
 */

/** HF RepetitionPenaltyLogitsProcessor: each id seen so far once, negative logits x penalty, others / penalty. */
export function applyRepetitionPenalty(logits: Float64Array, seen: Iterable<number>, penalty: number): void {
  for (const id of new Set(seen)) {
    const value = logits[id]!;
    logits[id] = value < 0 ? value * penalty : value / penalty;
  }
}

/** HF SuppressTokensLogitsProcessor: these ids can never be picked. */
export function suppressTokens(logits: Float64Array, ids: readonly number[]): void {
  for (const id of ids) logits[id] = -Infinity;
}

/** HF TemperatureLogitsWarper. */
export function applyTemperature(logits: Float64Array, temperature: number): void {
  for (let i = 0; i < logits.length; i++) logits[i] = logits[i]! / temperature;
}

/** HF TopKLogitsWarper: everything below the k-th largest value goes; ties with it stay. */
export function topKFilter(logits: Float64Array, k: number): void {
  if (k >= logits.length) return;
  const threshold = Float64Array.from(logits).sort()[logits.length - k]!;
  for (let i = 0; i < logits.length; i++) if (logits[i]! < threshold) logits[i] = -Infinity;
}

/**
 * HF TopPLogitsWarper: walking up from the least likely token, drop tokens while their
 * cumulative probability stays <= 1 - p; the most likely token always stays. What remains is the
 * smallest set of most likely tokens whose probability adds up to at least p.
 */
export function topPFilter(logits: Float64Array, p: number): void {
  if (p >= 1) return;
  const probs = softmax(logits);
  const ascending = Array.from(logits.keys()).sort((a, b) => logits[a]! - logits[b]! || a - b);
  let cumulative = 0;
  for (let r = 0; r < ascending.length - 1; r++) {
    const id = ascending[r]!;
    cumulative += probs[id]!;
    if (cumulative > 1 - p) break;
    logits[id] = -Infinity;
  }
}

export function softmax(logits: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const out = new Float64Array(logits.length);
  if (max === -Infinity) return out;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}

/** Index of the largest logit, the first one on ties (torch.argmax). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/**
 * One id drawn with probability softmax(logits) from a uniform `u` in [0, 1): the ids are walked
 * from the most to the least likely (stable on ties), so a fixed `u` gives a fixed id.
 */
export function sampleFromLogits(logits: Float64Array, u: number): number {
  const order = Array.from(logits.keys())
    .filter((i) => logits[i]! > -Infinity)
    .sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (order.length === 0) throw new Error('sampleFromLogits: every token is filtered out (all logits are -Infinity)');
  const max = logits[order[0]!]!;
  const weights = order.map((i) => Math.exp(logits[i]! - max));
  let r = u * weights.reduce((a, w) => a + w, 0);
  for (let k = 0; k < order.length; k++) {
    r -= weights[k]!;
    if (r <= 0) return order[k]!;
  }
  return order[order.length - 1]!; // float round-off left r just above 0
}
