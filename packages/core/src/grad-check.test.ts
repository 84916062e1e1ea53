import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { checkGradients, checkParameterGradients, gradientMismatches } from './grad-check';

describe('gradient checks', () => {
  it('accept a right gradient and leave the variables as they were', () => {
    const a = tf.variable(tf.tensor1d([0.3, -0.7]));
    const b = tf.variable(tf.tensor1d([1.1, 0.4]));
    const r = checkParameterGradients(() => a.mul(b).square().sum() as tf.Scalar, [a, b]);
    expect(r.maxRelError).toBeLessThan(1e-2);
    expect(Array.from(a.dataSync())).toEqual([0.30000001192092896, -0.699999988079071]);
    expect(Array.from(b.dataSync())).toEqual([1.100000023841858, 0.4000000059604645]);
  });

  it('catch a wrong gradient', () => {
    const wrong = tf.customGrad(((x: tf.Tensor) => ({ value: x.square().sum(), gradFunc: (dy: tf.Tensor) => x.mul(3).mul(dy) })) as unknown as Parameters<typeof tf.customGrad>[0]);
    const r = checkGradients((x) => wrong(x) as tf.Scalar, [tf.tensor1d([0.5, -1])]);
    expect(r.maxRelError).toBeGreaterThan(0.1);
  });

  it('gradientMismatches names exactly the tensors whose gradient is wrong', () => {
    // d/dx of sum(x^2) is 2x; the custom gradient says 3x, so only x is wrong.
    const wrongSquare = tf.customGrad(((x: tf.Tensor) => ({ value: x.square(), gradFunc: (dy: tf.Tensor) => x.mul(3).mul(dy) })) as unknown as Parameters<typeof tf.customGrad>[0]);
    const w = tf.variable(tf.tensor1d([0.2, -0.5, 0.9]));
    const f = (x: tf.Tensor) => (wrongSquare(x) as tf.Tensor).mul(w).sum() as tf.Scalar;
    const x = tf.tensor1d([0.5, -1, 0.3]);
    expect(gradientMismatches(f, [['w', w]], [['x', x]]).map((m) => m.name)).toEqual(['x']);
    const right = (y: tf.Tensor) => y.square().mul(w).sum() as tf.Scalar;
    expect(gradientMismatches(right, [['w', w]], [['x', x]])).toEqual([]);
  });
});
