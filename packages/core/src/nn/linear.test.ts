import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Linear, linearForward } from './linear';
import { Rng } from '../rng';
import { checkGradients } from '../grad-check';

describe('Linear', () => {
  it('computes x W^T + b with W stored [out, in]', () => {
    const layer = new Linear(3, 2, new Rng(1));
    layer.weight.assign(tf.tensor2d([[1, 2, 3], [4, 5, 6]]));
    layer.bias!.assign(tf.tensor1d([0.5, -1]));
    const y = layer.forward(tf.tensor3d([[[1, 0, -1], [2, 1, 0]]]));
    expect(y.shape).toEqual([1, 2, 2]);
    expect(Array.from(y.dataSync())).toEqual([1 - 3 + 0.5, 4 - 6 - 1, 2 + 2 + 0.5, 8 + 5 - 1]);
  });

  it('gradients equal dX = dY W and dW = dY^T X computed in plain JS', () => {
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 3) as tf.Tensor2D;
    const w = tf.randomNormal([3, 4], 0, 1, 'float32', 4) as tf.Tensor2D;
    const up = tf.randomNormal([5, 3], 0, 1, 'float32', 5);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => linearForward(a as tf.Tensor2D, b as tf.Tensor2D).mul(up).sum())([x, w]);
    const [X, W, U] = [x.arraySync(), w.arraySync(), up.arraySync() as number[][]];
    const dxRef = X.map((_, i) => W[0]!.map((__, k) => U[i]!.reduce((acc, u, o) => acc + u * W[o]![k]!, 0)));
    const dwRef = W.map((_, o) => X[0]!.map((__, k) => X.reduce((acc, row, i) => acc + U[i]![o]! * row[k]!, 0)));
    expect(tf.max(tf.abs(dx!.sub(tf.tensor2d(dxRef)))).dataSync()[0]).toBeLessThan(1e-5);
    expect(tf.max(tf.abs(dw!.sub(tf.tensor2d(dwRef)))).dataSync()[0]).toBeLessThan(1e-5);
  });

  it('passes a finite-difference check including the bias', () => {
    const layer = new Linear(4, 3, new Rng(2));
    const x = tf.randomNormal([2, 4], 0, 1, 'float32', 6);
    const r = checkGradients((xx, w, b) => linearForward(xx as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D).tanh().sum(), [x, layer.weight, layer.bias!]);
    expect(r.maxRelError).toBeLessThan(2e-2);
  });
});
