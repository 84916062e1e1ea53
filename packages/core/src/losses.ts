import * as tf from '@tensorflow/tfjs';
import { AT_SIZE_ELEMENTS, fusedMaskedCrossEntropy } from './kernels/at-size';

/**
 * Mean cross-entropy over the positions whose weight is non-zero.
 * logits [N, V], targets [N] int32, weights [N] (1 = trained, 0 = ignored).
 * The target log-prob is picked with a one-hot product, not gather, so the
 * gradient runs on every backend. At a released model's vocabulary on wasm, one fused kernel
 * over the trained rows instead (`fusedMaskedCrossEntropy`).
 */
export function maskedCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const fused = logits.size >= AT_SIZE_ELEMENTS ? fusedMaskedCrossEntropy(logits, targets, weights) : undefined;
    if (fused) return fused;
    const logp = tf.logSoftmax(logits);
    const picked = logp.mul(tf.oneHot(targets.toInt(), logits.shape[1]).toFloat()).sum(1); // [N]
    const w = weights.toFloat();
    return picked.mul(w).sum().neg().div(w.sum().maximum(1)) as tf.Scalar;
  });
}
