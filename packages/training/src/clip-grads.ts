import * as tf from '@tensorflow/tfjs';
import { wasmHeapViews } from '@mllm/core/internal';
import { hostBackend } from './host-backend';

/**
 * The global L2 norm of all gradients; throws when it is not finite, which means training
 * diverged. On host backends (wasm, cpu) one float64 loop over the values (on wasm read in place
 * in the backend's memory, no copies), elsewhere tfjs ops and one scalar read back from the device.
 */
export function globalGradNorm(grads: Iterable<tf.Tensor>): number {
  let norm: number;
  const all = [...grads];
  if (hostBackend() || all.length === 0) {
    const heap = wasmHeapViews();
    let sum = 0;
    for (const g of all) {
      const values = heap && g.dtype === 'float32' ? heap.view(g) : (g.dataSync() as Float32Array);
      for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
    }
    norm = Math.sqrt(sum);
  } else {
    const t = tf.tidy(() => tf.sqrt(tf.addN(all.map((g) => g.square().sum()))));
    norm = t.dataSync()[0]!;
    t.dispose();
  }
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
