import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Embedding } from './embedding';
import { Rng } from '../rng';

describe('Embedding', () => {
  it('looks up rows and accumulates gradients of repeated ids', () => {
    const emb = new Embedding(4, 2, new Rng(1));
    emb.weight.assign(tf.tensor2d([[0, 1], [2, 3], [4, 5], [6, 7]]));
    const ids = tf.tensor2d([[1, 3, 1]], [1, 3], 'int32');
    expect(Array.from(emb.forward(ids).dataSync())).toEqual([2, 3, 6, 7, 2, 3]);
    const up = tf.tensor3d([[[1, 2], [3, 4], [10, 20]]]);
    const { grads } = tf.variableGrads(() => emb.forward(ids).mul(up).sum() as tf.Scalar, [emb.weight]);
    expect(Array.from(grads[emb.weight.name]!.dataSync())).toEqual([0, 0, 11, 22, 0, 0, 3, 4]);
  });
});
