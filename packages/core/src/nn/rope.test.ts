import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { RotaryEmbedding } from './rope';

describe('RotaryEmbedding', () => {
  it('follows the rotate-half convention: dim i pairs with i + d/2', () => {
    const rope = new RotaryEmbedding(4, 100);
    const x = tf.tensor4d([1, 2, 3, 4], [1, 1, 1, 4]);
    const got = rope.apply(x, rope.tables([[3]])).dataSync();
    const a0 = 3 * 1;
    const a1 = 3 * Math.pow(100, -2 / 4);
    const want = [
      1 * Math.cos(a0) - 3 * Math.sin(a0),
      2 * Math.cos(a1) - 4 * Math.sin(a1),
      3 * Math.cos(a0) + 1 * Math.sin(a0),
      4 * Math.cos(a1) + 2 * Math.sin(a1),
    ];
    want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 5));
  });
});
