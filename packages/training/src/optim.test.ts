import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { AdamW } from './adamw';
import { warmupCosine } from './schedule';
import { clipGradNorm, clipScale } from './clip-grads';

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

  it('equals AdamW written as tfjs ops over several steps (decay on matrices only, scaled gradients)', () => {
    const init = { w: tf.randomNormal([3, 4], 0, 1, 'float32', 1), b: tf.randomNormal([4], 0, 1, 'float32', 2) };
    const ours = { w: tf.variable(init.w.clone()), b: tf.variable(init.b.clone()) };
    const opt = new AdamW([['w', ours.w], ['b', ours.b]], { weightDecay: 0.1 });
    const ref = { w: init.w.clone(), b: init.b.clone() };
    const moments = { w: [tf.zerosLike(init.w), tf.zerosLike(init.w)], b: [tf.zerosLike(init.b), tf.zerosLike(init.b)] };
    const [b1, b2, eps, wd] = [0.9, 0.999, 1e-8, 0.1];
    for (let step = 1; step <= 5; step++) {
      const lr = 0.01 * step;
      const scale = step % 2 ? 1 : 0.5;
      const grads = { w: tf.randomNormal([3, 4], 0, 1, 'float32', 10 + step), b: tf.randomNormal([4], 0, 1, 'float32', 20 + step) };
      opt.apply(new Map(Object.entries(grads)), lr, scale);
      for (const k of ['w', 'b'] as const) {
        const g = grads[k].mul(scale);
        const [m, v] = moments[k] as [tf.Tensor, tf.Tensor];
        moments[k] = [m.mul(b1).add(g.mul(1 - b1)), v.mul(b2).add(g.square().mul(1 - b2))];
        const update = moments[k][0]!.div(1 - b1 ** step).div(moments[k][1]!.div(1 - b2 ** step).sqrt().add(eps));
        ref[k] = (k === 'w' ? ref[k].mul(1 - lr * wd) : ref[k]).sub(update.mul(lr));
      }
    }
    for (const k of ['w', 'b'] as const) {
      const got = ours[k].dataSync();
      ref[k].dataSync().forEach((x, i) => expect(Math.abs(got[i]! - x)).toBeLessThan(1e-6));
    }
  });

  it('updates the same on the host and as tensor ops (the path native / GPU backends take)', () => {
    const start = tf.randomNormal([4, 3], 0, 1, 'float32', 7);
    const run = (update: 'host' | 'tensors') => {
      const w = tf.variable(start.clone());
      const opt = new AdamW([['w', w]], { weightDecay: 0.05, update });
      for (let i = 0; i < 4; i++) opt.apply(new Map([['w', tf.randomNormal([4, 3], 0, 1, 'float32', 30 + i)]]), 0.02, i === 2 ? 0.3 : 1);
      const state = Object.values(opt.stateDict()).map((t) => Array.from(t.dataSync()));
      return { w: Array.from(w.dataSync()), state };
    };
    const host = run('host');
    const tensors = run('tensors');
    host.w.forEach((x, i) => expect(Math.abs(x - tensors.w[i]!)).toBeLessThan(1e-6));
    host.state.flat().forEach((x, i) => expect(Math.abs(x - tensors.state.flat()[i]!)).toBeLessThan(1e-6));
  });

  it('resumes from its state dict exactly where it was', () => {
    const make = () => tf.variable(tf.tensor2d([[0.5, -1, 2]]));
    const grad = (i: number) => new Map([['w', tf.tensor2d([[Math.sin(i), Math.cos(i), 0.3]])]]);
    const a = make();
    const straight = new AdamW([['w', a]], { weightDecay: 0.01 });
    for (let i = 0; i < 6; i++) straight.apply(grad(i), 0.05);
    const b = make();
    const first = new AdamW([['w', b]], { weightDecay: 0.01 });
    for (let i = 0; i < 3; i++) first.apply(grad(i), 0.05);
    const state = first.stateDict();
    const resumed = new AdamW([['w', b]], { weightDecay: 0.01 });
    resumed.loadStateDict(state, first.step);
    first.dispose();
    for (let i = 3; i < 6; i++) resumed.apply(grad(i), 0.05);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(() => resumed.loadStateDict({}, 0)).toThrow(/no moments for w/);
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
    expect(clipScale(5, 1)).toBeCloseTo(0.2);
    expect(clipScale(0.5, 1)).toBe(1);
    expect(clipScale(5, 0)).toBe(1);
  });
});
