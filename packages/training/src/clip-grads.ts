import * as tf from '@tensorflow/tfjs';

/**
 * The global L2 norm of all gradients (accumulated in float64); throws when it is not finite,
 * which means training diverged.
 */
export function globalGradNorm(grads: Iterable<tf.Tensor>): number {
  let sum = 0;
  for (const g of grads) {
    const values = g.dataSync() as Float32Array;
    for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  }
  const norm = Math.sqrt(sum);
  if (!Number.isFinite(norm)) throw new Error(`gradient norm is ${norm}: training diverged; lower the learning rate or enable clipping`);
  return norm;
}

/** The factor min(1, maxNorm / norm) that clips a global norm to `maxNorm`; 0 disables clipping. */
export function clipScale(norm: number, maxNorm: number): number {
  return maxNorm > 0 && norm > maxNorm ? maxNorm / norm : 1;
}

/** Scales all gradients by min(1, maxNorm / globalNorm); returns the norm before clipping. */
export function clipGradNorm(grads: Map<string, tf.Tensor>, maxNorm: number): { grads: Map<string, tf.Tensor>; norm: number } {
  const norm = globalGradNorm(grads.values());
  const scale = clipScale(norm, maxNorm);
  if (scale === 1) return { grads, norm };
  const clipped = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) {
    clipped.set(name, g.mul(scale));
    g.dispose();
  }
  return { grads: clipped, norm };
}
