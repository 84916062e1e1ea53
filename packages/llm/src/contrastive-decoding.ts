/**
 * Contrastive decoding against a distorted input (Visual Contrastive Decoding, Leng et al.
 * 2024, arXiv:2311.16922): next-token logits are contrasted with the logits the same model
 * gives for the same text with a distorted image, so tokens that the language prior alone
 * would produce lose weight, and an adaptive plausibility constraint keeps only tokens that
 * are likely under the real image. As in VCD's sampler, on raw logits l (real image) and l'
 * (distorted):
 *
 *   cd = (1 + alpha) * l - alpha * l'
 *   cd[v] = -Infinity where l[v] < log(beta) + max(l)     (p(v) < beta * max p)
 *
 * then the usual processors and greedy or sampled picking. alpha 0 switches the method off
 * entirely (no constraint, no second forward), so strength 0 is exactly plain decoding.
 * Pure (no tfjs): the ONNX runtime can use it on its own logits.
 */

export interface ContrastiveDecoding {
  /** Strength of the contrast (VCD's cd_alpha, 1 in the paper); 0 = off. */
  alpha: number;
  /** Plausibility cut-off (VCD's cd_beta, 0.1 in the paper): keep tokens with p >= beta * max p. */
  beta: number;
}

/** Combines B rows of V logits, `logits` from the real input and `contrast` from the distorted one. */
export function contrastLogits(logits: ArrayLike<number>, contrast: ArrayLike<number>, vocab: number, { alpha, beta }: ContrastiveDecoding): Float32Array {
  if (logits.length !== contrast.length || logits.length % vocab !== 0)
    throw new Error(`contrastLogits: ${logits.length} logits and ${contrast.length} contrast logits for a vocabulary of ${vocab}; both must be rows x vocab`);
  const out = new Float32Array(logits.length);
  const logBeta = Math.log(beta);
  for (let start = 0; start < logits.length; start += vocab) {
    let max = -Infinity;
    for (let v = start; v < start + vocab; v++) if (logits[v]! > max) max = logits[v]!;
    const cutoff = logBeta + max;
    for (let v = start; v < start + vocab; v++) out[v] = logits[v]! < cutoff ? -Infinity : (1 + alpha) * logits[v]! - alpha * contrast[v]!;
  }
  return out;
}
