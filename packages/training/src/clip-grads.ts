import * as tf from '@tensorflow/tfjs';

/** Scales all gradients by min(1, maxNorm / globalNorm); returns the norm before clipping. */
export function clipGradNorm(grads: Map<string, tf.Tensor>, maxNorm: number): { grads: Map<string, tf.Tensor>; norm: number } {
  const normTensor = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => g.square().sum()))));
  const norm = normTensor.dataSync()[0]!;
  normTensor.dispose();
  if (!Number.isFinite(norm)) throw new Error(`gradient norm is ${norm}: training diverged; lower the learning rate or enable clipping`);
  if (maxNorm <= 0 || norm <= maxNorm) return { grads, norm };
  const scale = maxNorm / norm;
  const clipped = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) {
    clipped.set(name, g.mul(scale));
    g.dispose();
  }
  return { grads: clipped, norm };
}
