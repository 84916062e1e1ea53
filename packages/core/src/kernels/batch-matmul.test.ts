import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { batchMatMul, batchMatMulNT, batchMatMulTN } from './batch-matmul';

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(a.sub(b))).dataSync()[0]!;
const rand = (shape: [number, number, number], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed) as tf.Tensor3D;

describe('SIMD batched matMul kernels', () => {
  // widths that are and are not multiples of the 4-lane vectors
  for (const [g, m, n, k] of [[3, 5, 7, 8], [2, 4, 6, 6], [1, 1, 3, 5], [2, 3, 24, 5], [1, 2, 37, 19]] as const) {
    it(`match tf.matMul in value and gradient (G ${g}, m ${m}, n ${n}, k ${k})`, () => {
      const a = rand([g, m, k], 1);
      const bT = rand([g, n, k], 2);
      const b = rand([g, k, n], 3);
      const aT = rand([g, k, m], 4);
      expect(maxDiff(batchMatMulNT(a, bT), tf.matMul(a, bT, false, true))).toBeLessThan(1e-5);
      expect(maxDiff(batchMatMul(a, b), tf.matMul(a, b))).toBeLessThan(1e-5);
      expect(maxDiff(batchMatMulTN(aT, b), tf.matMul(aT, b, true, false))).toBeLessThan(1e-5);
      const up = rand([g, m, n], 5);
      const cases: [(x: tf.Tensor, y: tf.Tensor) => tf.Tensor, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor, tf.Tensor3D, tf.Tensor3D][] = [
        [(x, y) => batchMatMulNT(x as tf.Tensor3D, y as tf.Tensor3D), (x, y) => tf.matMul(x, y, false, true), a, bT],
        [(x, y) => batchMatMul(x as tf.Tensor3D, y as tf.Tensor3D), (x, y) => tf.matMul(x, y), a, b],
        [(x, y) => batchMatMulTN(x as tf.Tensor3D, y as tf.Tensor3D), (x, y) => tf.matMul(x, y, true, false), aT, b],
      ];
      for (const [ours, ref, x, y] of cases) {
        const g1 = tf.grads((p: tf.Tensor, q: tf.Tensor) => ours(p, q).mul(up).sum())([x, y]);
        const g2 = tf.grads((p: tf.Tensor, q: tf.Tensor) => ref(p, q).mul(up).sum())([x, y]);
        expect(maxDiff(g1[0]!, g2[0]!)).toBeLessThan(1e-4);
        expect(maxDiff(g1[1]!, g2[1]!)).toBeLessThan(1e-4);
      }
    });
  }
});
