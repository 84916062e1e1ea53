import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { gradientMismatches } from '@mllm/core/testing';
import { clippedValueLoss, gae, gaeBatch, perTokenKl, perTokenRewards, ppoClippedLoss } from './ppo-losses';

const num = (x: tf.Tensor) => x.dataSync()[0]!;
const closeAll = (got: number[], want: number[], digits = 6) => {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, digits));
};

describe('gae', () => {
  it('matches the recursion worked by hand on 3 steps', () => {
    // rewards [1, 0, 2], values [0.5, 1.0, 1.5], gamma 0.9, lambda 0.8 (gamma lambda = 0.72), terminal:
    // t=2: delta = 2 + 0.9 * 0   - 1.5 = 0.5;   A2 = 0.5
    // t=1: delta = 0 + 0.9 * 1.5 - 1.0 = 0.35;  A1 = 0.35 + 0.72 * 0.5  = 0.71
    // t=0: delta = 1 + 0.9 * 1.0 - 0.5 = 1.4;   A0 = 1.4  + 0.72 * 0.71 = 1.9112
    // returns = A + V = [2.4112, 1.71, 2.0]
    const out = gae([1, 0, 2], [0.5, 1.0, 1.5], { gamma: 0.9, lambda: 0.8 });
    closeAll(out.advantages, [1.9112, 0.71, 0.5]);
    closeAll(out.returns, [2.4112, 1.71, 2.0]);
    // bootstrap 2 after the last step: A2 = 2 + 1.8 - 1.5 = 2.3; A1 = 0.35 + 0.72 * 2.3 = 2.006; A0 = 1.4 + 0.72 * 2.006 = 2.84432
    closeAll(gae([1, 0, 2], [0.5, 1.0, 1.5], { gamma: 0.9, lambda: 0.8, bootstrap: 2 }).advantages, [2.84432, 2.006, 2.3]);
  });

  it('reduces to one-step TD at lambda 0 and to the discounted return at lambda 1', () => {
    const r = [0.3, -1, 0.7, 2];
    const v = [0.1, 0.4, -0.2, 0.9];
    const td = gae(r, v, { gamma: 0.95, lambda: 0 }).advantages;
    closeAll(td, r.map((x, t) => x + 0.95 * (v[t + 1] ?? 0) - v[t]!));
    const mc = gae(r, v, { gamma: 0.95, lambda: 1 }).returns;
    closeAll(mc, r.map((_, t) => r.slice(t).reduce((s, x, k) => s + x * 0.95 ** k, 0)));
  });

  it('uses TRL defaults gamma 1, lambda 0.95 and asks for one value per reward', () => {
    // A1 = 1 - 0.5 = 0.5; A0 = (0 + 0.5 - 0.2) + 0.95 * 0.5 = 0.775
    closeAll(gae([0, 1], [0.2, 0.5]).advantages, [0.775, 0.5]);
    expect(() => gae([0, 1], [0.2, 0.5, 0])).toThrow(/options\.bootstrap/);
  });

  it('batched: each row runs over its masked positions only', () => {
    const out = gaeBatch(
      [[1, 0, 2, 9], [5, 1, 0, 2]],
      [[0.5, 1.0, 1.5, 9], [7, 0.5, 1.0, 1.5]],
      [[1, 1, 1, 0], [0, 1, 1, 1]],
      { gamma: 0.9, lambda: 0.8 },
    );
    closeAll(out.advantages[0]!, [1.9112, 0.71, 0.5, 0]);
    // row 1 holds the hand-worked sequence after one masked position
    closeAll(out.advantages[1]!, [0, 1.9112, 0.71, 0.5]);
    closeAll(out.returns[1]!, [0, 2.4112, 1.71, 2.0]);
  });
});

describe('perTokenKl', () => {
  it('k1 is logProbs - refLogProbs; k3 is (r - 1) - log r with r = pi_ref / pi', () => {
    tf.tidy(() => {
      const lp = tf.tensor2d([[-1, -0.5, -2]]);
      const ref = tf.tensor2d([[-1.5, -0.5, -1]]);
      closeAll(Array.from(perTokenKl(lp, ref).dataSync()), [0.5, 0, -1]);
      const k3 = (d: number) => Math.exp(d) - 1 - d; // d = ref - lp
      closeAll(Array.from(perTokenKl(lp, ref, { estimator: 'k3' }).dataSync()), [k3(-0.5), 0, k3(1)], 5);
    });
  });
});

describe('ppoClippedLoss', () => {
  // ratios exp(logProbs - oldLogProbs) = [1.5, 0.5, 1.1, 0.7, 3], clip range 0.2, the last token masked:
  // t0 A= 1: -1.5 vs -1.2 (clip)      -> max -1.2, clipped
  // t1 A=-1:  0.5 vs  0.8 (clip 0.8)  -> max  0.8, clipped
  // t2 A= 2: -2.2 vs -2.2 (in range)  -> max -2.2
  // t3 A= 1: -0.7 vs -0.8 (clip 0.8)  -> max -0.7, the unclipped term is the pessimistic one
  // loss = (-1.2 + 0.8 - 2.2 - 0.7) / 4 = -0.825; clipFraction = 2 / 4
  const ratios = [1.5, 0.5, 1.1, 0.7, 3];
  const make = () => ({
    logProbs: tf.tensor2d([ratios.map((r) => Math.log(r) - 0.3)]),
    oldLogProbs: tf.tensor2d([ratios.map(() => -0.3)]),
    advantages: tf.tensor2d([[1, -1, 2, 1, 5]]),
    mask: tf.tensor2d([[1, 1, 1, 1, 0]]),
  });

  it('equals the hand-computed clipped objective and clip fraction', () => {
    tf.tidy(() => {
      const out = ppoClippedLoss(make());
      expect(num(out.loss)).toBeCloseTo(-0.825, 5);
      expect(num(out.clipFraction)).toBeCloseTo(0.5, 6);
      // clip range 0.6: every unmasked ratio lies inside [0.4, 1.6], so nothing is clipped
      const wide = ppoClippedLoss(make(), { clipRange: 0.6 });
      expect(num(wide.loss)).toBeCloseTo((-1.5 + 0.5 - 2.2 - 0.7) / 4, 5);
      expect(num(wide.clipFraction)).toBe(0);
    });
  });

  it('passes gradient only through unclipped tokens, and matches finite differences', () => {
    const x = make();
    const f = (lp: tf.Tensor) => ppoClippedLoss({ ...x, logProbs: lp as tf.Tensor2D }).loss;
    const g = tf.tidy(() => Array.from(tf.grad(f)(x.logProbs).dataSync()));
    // d/dlp of -A ratio / 4 = -A ratio / 4 where the unclipped term wins; 0 where clipped or masked
    closeAll(g, [0, 0, -2 * 1.1 / 4, -1 * 0.7 / 4, 0], 5);
    // away from the clip edges, where central differences are defined
    const smooth = { ...x, logProbs: tf.tensor2d([[0.05, -0.1, 0.02, -0.3, 0.4]]), oldLogProbs: tf.zeros([1, 5]) as tf.Tensor2D };
    const h = (lp: tf.Tensor) => ppoClippedLoss({ ...smooth, logProbs: lp as tf.Tensor2D }).loss;
    expect(gradientMismatches(h, [], [['logProbs', smooth.logProbs]], { eps: 1e-3 })).toEqual([]);
    tf.dispose([...Object.values(x), smooth.logProbs, smooth.oldLogProbs]);
  });

  it('leaks no tensors and checks shapes', () => {
    const x = make();
    const before = tf.memory().numTensors;
    const out = ppoClippedLoss(x);
    tf.dispose([out.loss, out.clipFraction]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => ppoClippedLoss({ ...x, mask: tf.ones([1, 4]) as tf.Tensor2D })).toThrow(/mask is \[1,4\]/);
    tf.dispose(Object.values(x));
  });
});

describe('clippedValueLoss', () => {
  it('equals the hand-computed clipped value loss and clip fraction', () => {
    // clip range 0.2 around oldValues, last token masked:
    // t0 v=1.0 old=0.5 R=1.2: clip -> 0.7; (1.0-1.2)^2 = 0.04, (0.7-1.2)^2 = 0.25 -> 0.25, clipped
    // t1 v=2.0 old=1.0 R=1.0: clip -> 1.2; 1.0 vs 0.04                             -> 1.0
    // t2 v=0.5 old=0.4 R=0.0: clip -> 0.5 (inside); 0.25 vs 0.25                   -> 0.25
    // loss = 0.5 * (0.25 + 1 + 0.25) / 3 = 0.25; clipFraction = 1 / 3
    tf.tidy(() => {
      const out = clippedValueLoss({
        values: tf.tensor2d([[1.0, 2.0, 0.5, 7]]),
        oldValues: tf.tensor2d([[0.5, 1.0, 0.4, 0]]),
        returns: tf.tensor2d([[1.2, 1.0, 0.0, 0]]),
        mask: tf.tensor2d([[1, 1, 1, 0]]),
      });
      expect(num(out.loss)).toBeCloseTo(0.25, 6);
      expect(num(out.clipFraction)).toBeCloseTo(1 / 3, 6);
    });
  });

  it('matches finite differences w.r.t. the values', () => {
    const x = {
      values: tf.tensor2d([[0.3, 1.1], [-0.4, 2.0]]),
      oldValues: tf.tensor2d([[0.25, 0.5], [-0.5, 2.05]]),
      returns: tf.tensor2d([[1.0, 0.0], [0.7, 1.0]]),
      mask: tf.tensor2d([[1, 1], [1, 0]]),
    };
    const f = (v: tf.Tensor) => clippedValueLoss({ ...x, values: v as tf.Tensor2D }).loss;
    expect(gradientMismatches(f, [], [['values', x.values]], { eps: 1e-3 })).toEqual([]);
    tf.dispose(Object.values(x));
  });
});

describe('perTokenRewards', () => {
  const kl = [[0, 0.1, 0.2, 0.3, 0], [0, 0.5, 0, 0, 0]];
  const mask = [[0, 1, 1, 1, 0], [0, 1, 0, 0, 0]];
  it('pays the whole score at the last answer token, minus klCoef x KL everywhere', () => {
    const r = perTokenRewards({ kl, mask, scores: [2, -1], klCoef: 0.5 });
    expect(r[0]).toEqual([0, -0.05, -0.1, 2 - 0.15, 0]);
    expect(r[1]).toEqual([0, -1 - 0.25, 0, 0, 0]);
  });
  it('with token credit pays each answer position its share, the shares off the answer at the last one', () => {
    // row 0: shares on positions 1-3 plus 0.4 at position 4 (the unsampled end of turn), score 1.0
    const r = perTokenRewards({ kl, mask, scores: [1, 0.3], tokenScores: [[0, 0.1, -0.2, 0.7, 0.4], [0, 0.2, 0.1, 0, 0]], klCoef: 0 });
    expect(r[0]![1]).toBeCloseTo(0.1);
    expect(r[0]![2]).toBeCloseTo(-0.2);
    expect(r[0]![3]).toBeCloseTo(0.7 + 0.4);
    expect(r[0]![4]).toBe(0);
    expect(r[1]![1]).toBeCloseTo(0.3);
    r.forEach((row, i) => expect(row.reduce((a, x) => a + x, 0)).toBeCloseTo([1, 0.3][i]!));
  });
});
