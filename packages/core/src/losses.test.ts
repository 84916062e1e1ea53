import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { maskedCrossEntropy } from './losses';
import { checkGradients } from './grad-check';

describe('maskedCrossEntropy', () => {
  it('averages -log p(target) over weighted positions only', () => {
    const logits = tf.tensor2d([[0, Math.log(3)], [5, 0], [1, 1]]);
    const loss = maskedCrossEntropy(logits, tf.tensor1d([1, 1, 0], 'int32'), tf.tensor1d([1, 0, 1])).dataSync()[0]!;
    expect(loss).toBeCloseTo((-Math.log(0.75) - Math.log(0.5)) / 2, 5);
  });

  it('passes a finite-difference check', () => {
    const logits = tf.randomNormal([4, 5], 0, 1, 'float32', 1);
    const r = checkGradients((l) => maskedCrossEntropy(l as tf.Tensor2D, tf.tensor1d([0, 4, 2, 1], 'int32'), tf.tensor1d([1, 1, 0, 1])), [logits]);
    expect(r.maxRelError).toBeLessThan(2e-2);
  });
});
