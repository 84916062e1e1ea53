import * as tf from '@tensorflow/tfjs';
import { MllmError } from '../errors';
import { wasmHeap } from './heap-tensors';

/**
 * Rows x vocabulary above which the embedding gradient and the masked cross-entropy take the
 * kernels below. Under it (every shipped config of the word tokenizer: 60-200 ids) the stock
 * tfjs chains run, whose rounding the reproducibility figures pin; above it (a released
 * checkpoint's 32k-150k vocabulary) the stock chains materialise several [rows, vocab] tensors
 * (one-hots, log-probabilities and their gradients: 200 MB each at 1024 x 49152) and the
 * one-hot embedding gradient is a rows x vocab x dim matMul.
 */
export const AT_SIZE_ELEMENTS = 1 << 22;

/**
 * dW [vocab, dim] of a row lookup: dy's rows added into the rows their ids name, in order
 * (PyTorch's embedding_dense_backward), on tfjs-wasm's heap; undefined off wasm.
 */
export function embeddingGradRows(ids: tf.Tensor1D, dy: tf.Tensor2D, vocab: number): tf.Tensor2D | undefined {
  const heap = wasmHeap();
  if (!heap) return undefined;
  const dim = dy.shape[1];
  const dw = tf.fill([vocab, dim], 0, 'float32') as tf.Tensor2D;
  const idsInt = ids.dtype === 'int32' ? ids : ids.toInt();
  const out = heap.view(dw);
  const src = heap.view(dy);
  const rows = heap.ints(idsInt);
  for (let i = 0; i < rows.length; i++) {
    const base = rows[i]! * dim;
    const from = i * dim;
    for (let j = 0; j < dim; j++) out[base + j]! += src[from + j]!;
  }
  if (idsInt !== ids) idsInt.dispose();
  return dw;
}

/**
 * Mean cross-entropy over the weighted rows of logits [N, V], fused: log-sum-exp in float64 for
 * the rows whose weight is non-zero only, and a gradient (softmax - onehot) x w / sum(w) written
 * straight into a zero [N, V] tensor. Same value as the stock chain up to float rounding; the
 * stock chain makes ~10 [N, V] tensors over every row, trained or not. Undefined off wasm.
 */
export function fusedMaskedCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar | undefined {
  if (!wasmHeap()) return undefined;
  const [n, v] = logits.shape;
  const t = (targets.dtype === 'int32' ? targets : targets.toInt()).dataSync() as Int32Array;
  const w = weights.dataSync();
  let total = 0;
  for (let i = 0; i < n; i++) total += w[i]!;
  const denominator = Math.max(total, 1);
  const lse = new Float64Array(n);
  const f = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x]);
    const heap = wasmHeap()!;
    const values = heap.view(x);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      if (w[i] === 0) continue;
      const target = t[i]!;
      if (!(target >= 0 && target < v)) throw new MllmError(`cross-entropy: target ${target} at row ${i} is outside [0, ${v - 1}]; check the tokenizer's vocabulary size against the model's`);
      const row = i * v;
      let max = -Infinity;
      for (let j = 0; j < v; j++) if (values[row + j]! > max) max = values[row + j]!;
      let sum = 0;
      for (let j = 0; j < v; j++) sum += Math.exp(values[row + j]! - max);
      lse[i] = max + Math.log(sum);
      loss += w[i]! * (lse[i]! - values[row + target]!);
    }
    return {
      value: tf.scalar(loss / denominator),
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => {
        const scale = dy.dataSync()[0]! / denominator;
        const grad = tf.fill([n, v], 0, 'float32');
        const heap = wasmHeap()!;
        const out = heap.view(grad);
        const xs = heap.view(saved!);
        for (let i = 0; i < n; i++) {
          if (w[i] === 0) continue;
          const row = i * v;
          const k = scale * w[i]!;
          const shift = lse[i]!;
          for (let j = 0; j < v; j++) out[row + j] = k * Math.exp(xs[row + j]! - shift);
          out[row + t[i]!]! -= k;
        }
        return grad;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Scalar;
  return f(logits);
}
