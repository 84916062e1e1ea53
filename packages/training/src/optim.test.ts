import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { AdamW } from './adamw';
import { warmupCosine } from './schedule';
import { clipGradNorm } from './clip-grads';

describe('AdamW', () => {
  it('matches a hand-computed first step with decoupled weight decay', () => {
    const w = tf.variable(tf.tensor2d([[1, -2]]));
    const opt = new AdamW([['w', w]], { weightDecay: 0.1 });
    opt.apply(new Map([['w', tf.tensor2d([[0.5, 0.5]])]]), 0.01);
    // step 1: m_hat = g, v_hat = g^2, update = g/|g| = 1 (up to eps)
    const got = w.dataSync();
    expect(got[0]).toBeCloseTo(1 * (1 - 0.001) - 0.01, 6);
    expect(got[1]).toBeCloseTo(-2 * (1 - 0.001) - 0.01, 6);
  });

  it('minimises a quadratic', () => {
    const w = tf.variable(tf.tensor2d([[3, -4]]));
    const opt = new AdamW([['w', w]]);
    for (let i = 0; i < 300; i++) {
      const { grads } = tf.variableGrads(() => w.square().sum() as tf.Scalar, [w]);
      opt.apply(new Map([['w', grads[w.name]!]]), 0.05);
    }
    expect(Math.abs(w.dataSync()[0]!)).toBeLessThan(0.1);
  });
});

describe('schedule and clipping', () => {
  it('warms up linearly then decays by cosine to the floor', () => {
    expect(warmupCosine(0, { lr: 1, warmup: 10, total: 110 })).toBeCloseTo(0.1);
    expect(warmupCosine(9, { lr: 1, warmup: 10, total: 110 })).toBeCloseTo(1);
    expect(warmupCosine(60, { lr: 1, warmup: 10, total: 110, minRatio: 0 })).toBeCloseTo(0.5);
    expect(warmupCosine(110, { lr: 1, warmup: 10, total: 110, minRatio: 0.1 })).toBeCloseTo(0.1);
  });

  it('clips the global norm', () => {
    const { grads, norm } = clipGradNorm(new Map([['a', tf.tensor1d([3])], ['b', tf.tensor1d([4])]]), 1);
    expect(norm).toBeCloseTo(5);
    expect(grads.get('a')!.dataSync()[0]).toBeCloseTo(0.6);
    expect(() => clipGradNorm(new Map([['a', tf.tensor1d([NaN])]]), 1)).toThrow(/diverged/);
  });
});
