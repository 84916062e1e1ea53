import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { LayerNorm, RMSNorm } from './norms';
import { checkGradients } from '../grad-check';

describe('norms', () => {
  it('LayerNorm matches a hand computation', () => {
    const ln = new LayerNorm(4, 1e-5);
    const y = ln.forward(tf.tensor2d([[1, 2, 3, 4]])).dataSync();
    const mean = 2.5;
    const std = Math.sqrt(1.25 + 1e-5);
    [1, 2, 3, 4].forEach((v, i) => expect(y[i]).toBeCloseTo((v - mean) / std, 5));
  });

  it('RMSNorm matches a hand computation and scales by weight', () => {
    const rn = new RMSNorm(2, 1e-6);
    rn.weight.assign(tf.tensor1d([2, 1]));
    const y = rn.forward(tf.tensor2d([[3, 4]])).dataSync();
    const rms = Math.sqrt((9 + 16) / 2 + 1e-6);
    expect(y[0]).toBeCloseTo((2 * 3) / rms, 5);
    expect(y[1]).toBeCloseTo(4 / rms, 5);
  });

  it('both pass finite-difference checks for input and weights', () => {
    const x = tf.randomNormal([3, 6], 0, 1, 'float32', 2);
    const up = tf.randomNormal([3, 6], 0, 1, 'float32', 3);
    const ln = new LayerNorm(6);
    const rn = new RMSNorm(6);
    const lnCheck = checkGradients((xx, w, b) => {
      const { mean, variance } = tf.moments(xx, -1, true);
      return xx.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).mul(w).add(b).mul(up).sum();
    }, [x, ln.weight, ln.bias]);
    expect(lnCheck.maxRelError).toBeLessThan(3e-2);
    const rnCheck = checkGradients((xx) => rn.forward(xx).mul(up).sum(), [x]);
    expect(rnCheck.maxRelError).toBeLessThan(3e-2);
  });
});
