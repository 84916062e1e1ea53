import { describe, it, expect, afterEach } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { maskedCrossEntropy } from '../losses';
import { Embedding } from '../nn/embedding';
import { Rng } from '../rng';
import { AT_SIZE_ELEMENTS, embeddingGradRows, fusedMaskedCrossEntropy } from './at-size';
import { setFastKernels } from './batch-matmul';

const onWasm = tf.getBackend() === 'wasm';
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!);

/** The loss and its gradient by the stock tfjs chain (our kernels off: logSoftmax, one-hot, products). */
function stockLossAndGrad(logits: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D) {
  setFastKernels(false);
  try {
    const { value, grads } = tf.variableGrads(() => maskedCrossEntropy(logits, targets, weights), [logits as tf.Variable]);
    return { loss: value.dataSync()[0]!, grad: grads[(logits as tf.Variable).name]! };
  } finally {
    setFastKernels(true);
  }
}

describe.runIf(onWasm)('at-size kernels (wasm)', () => {
  afterEach(() => setFastKernels(true));

  it('fused masked cross-entropy matches the stock chain in value and gradient, above the size threshold', () => {
    const [n, v] = [96, 49152];
    expect(n * v).toBeGreaterThanOrEqual(AT_SIZE_ELEMENTS);
    const logits = tf.variable(tf.randomNormal([n, v], 0, 3, 'float32', 7)) as tf.Variable<tf.Rank.R2>;
    const targets = tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7919) % v), 'int32');
    const weights = tf.tensor1d(Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1)));
    const stock = stockLossAndGrad(logits, targets, weights);
    const { value, grads } = tf.variableGrads(() => maskedCrossEntropy(logits, targets, weights), [logits]);
    expect(value.dataSync()[0]!).toBeCloseTo(stock.loss, 4);
    const grad = grads[logits.name]!;
    const scale = tf.tidy(() => stock.grad.abs().max().dataSync()[0]!);
    // the stock chain sums 49152 exponentials in float32; ours in float64, checked exactly below
    expect(maxAbsDiff(grad, stock.grad) / scale).toBeLessThan(1e-4);
    const x = logits.dataSync();
    const g = grad.dataSync();
    const trained = weights.sum().dataSync()[0]!;
    for (const i of [1, 50, 95]) {
      const row = Array.from(x.subarray(i * v, (i + 1) * v));
      const max = Math.max(...row);
      const sum = row.reduce((a, xi) => a + Math.exp(xi - max), 0);
      const t = (i * 7919) % v;
      for (const j of [0, 1234, t, v - 1]) {
        const expected = (Math.exp(row[j]! - max) / sum - (j === t ? 1 : 0)) / trained;
        expect(Math.abs(g[i * v + j]! - expected)).toBeLessThan(1e-7 * Math.abs(expected) + 1e-12);
      }
    }
    // rows with weight 0 get exactly no gradient
    expect(tf.tidy(() => grad.slice([0, 0], [1, v]).abs().sum().dataSync()[0]!)).toBe(0);
  });

  it('fused cross-entropy refuses a target outside the vocabulary', () => {
    const logits = tf.zeros([1, 8]) as tf.Tensor2D;
    expect(() => fusedMaskedCrossEntropy(logits, tf.tensor1d([8], 'int32'), tf.tensor1d([1]))).toThrow(/target 8 at row 0 is outside \[0, 7\]/);
  });

  it('embedding rows gradient equals the one-hot product, repeated ids summed', () => {
    const vocab = 49152;
    const emb = new Embedding(vocab, 96, new Rng(3));
    const ids = tf.tensor2d([Array.from({ length: 100 }, (_, i) => (i % 10 === 0 ? 5 : (i * 4099) % vocab))], [1, 100], 'int32');
    expect(ids.size * vocab).toBeGreaterThanOrEqual(AT_SIZE_ELEMENTS);
    const up = tf.randomNormal([1, 100, 96], 0, 1, 'float32', 2);
    const loss = () => emb.forward(ids).mul(up).sum() as tf.Scalar;
    const fast = tf.variableGrads(loss, [emb.weight]).grads[emb.weight.name]!;
    setFastKernels(false);
    const stock = tf.variableGrads(loss, [emb.weight]).grads[emb.weight.name]!;
    setFastKernels(true);
    expect(maxAbsDiff(fast, stock)).toBeLessThan(1e-5);
    // id 5 appears 10 times: its row is the sum of those rows of `up`
    const expected = tf.tidy(() => up.reshape([100, 96]).gather(tf.tensor1d([0, 10, 20, 30, 40, 50, 60, 70, 80, 90], 'int32')).sum(0));
    expect(maxAbsDiff(fast.slice([5, 0], [1, 96]).reshape([96]), expected)).toBeLessThan(1e-5);
  });

  it('off the fast path the kernels decline, so callers keep the stock ops', () => {
    setFastKernels(false);
    expect(embeddingGradRows(tf.tensor1d([0], 'int32'), tf.zeros([1, 2]) as tf.Tensor2D, 4)).toBeUndefined();
    expect(fusedMaskedCrossEntropy(tf.zeros([1, 4]) as tf.Tensor2D, tf.tensor1d([0], 'int32'), tf.tensor1d([1]))).toBeUndefined();
  });
});
