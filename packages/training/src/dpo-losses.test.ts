import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@mllm/core';
import { gradientMismatches } from '@mllm/core/testing';
import { bradleyTerryLoss, dpoLoss, sequenceLogProbs } from './dpo-losses';

const num = (x: tf.Tensor) => x.dataSync()[0]!;
const arr = (x: tf.Tensor) => Array.from(x.dataSync());
const logSigmoid = (x: number) => Math.log(1 / (1 + Math.exp(-x)));

describe('sequenceLogProbs', () => {
  it('sums log_softmax at the targets over masked positions (checked against plain JS)', () => {
    const rng = new Rng(1);
    const [B, T, V] = [2, 3, 5];
    const logits = Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from({ length: V }, () => rng.normal() * 2)));
    const targets = [
      [4, 0, 2],
      [1, 3, 3],
    ];
    const mask = [
      [0, 1, 1], // a prompt token first
      [1, 1, 0], // padding last
    ];
    const expected = logits.map((row, b) =>
      row.reduce((sum, l, t) => {
        const lse = Math.log(l.reduce((s, x) => s + Math.exp(x), 0));
        return sum + mask[b]![t]! * (l[targets[b]![t]!]! - lse);
      }, 0),
    );
    const got = tf.tidy(() => arr(sequenceLogProbs(tf.tensor3d(logits), tf.tensor2d(targets, undefined, 'int32'), tf.tensor2d(mask))));
    got.forEach((g, b) => expect(g).toBeCloseTo(expected[b]!, 4));
  });

  it('has the right gradient w.r.t. the logits and leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const rng = new Rng(2);
    const logits = tf.tensor3d(Array.from({ length: 2 * 3 * 4 }, () => rng.normal()), [2, 3, 4]);
    const targets = tf.tensor2d([[0, 3, 1], [2, 2, 0]], undefined, 'int32');
    const mask = tf.tensor2d([[1, 1, 0], [0, 1, 1]]);
    const weights = tf.tensor1d([0.7, -1.3]); // unequal weights so a swapped row shows
    const f = (x: tf.Tensor) => sequenceLogProbs(x as tf.Tensor3D, targets, mask).mul(weights).sum() as tf.Scalar;
    expect(gradientMismatches(f, [], [['logits', logits]], { samples: 24 })).toEqual([]);
    tf.dispose([logits, targets, mask, weights]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects targets or masks that do not match the logits', () => {
    tf.tidy(() => {
      expect(() => sequenceLogProbs(tf.zeros([2, 3, 4]), tf.zeros([2, 2], 'int32'), tf.ones([2, 3]))).toThrow(/targets \[2,2\] must be \[2, 3\]/);
    });
  });
});

describe('dpoLoss', () => {
  // three pairs; beta h_i = beta * ((pc - pr) - (rc - rr))
  const pc = [-1.0, -2.0, -0.5];
  const pr = [-3.0, -1.0, -2.0];
  const rc = [-1.5, -1.8, -1.0];
  const rr = [-2.0, -1.2, -1.5];
  const inputs = () => ({
    policyChosen: tf.tensor1d(pc),
    policyRejected: tf.tensor1d(pr),
    referenceChosen: tf.tensor1d(rc),
    referenceRejected: tf.tensor1d(rr),
  });
  /** The formula with plain numbers: mean(-(1 - eps) log sig(beta h) - eps log sig(-beta h)). */
  const byHand = (beta: number, eps: number) => {
    const losses = pc.map((_, i) => {
      const h = pc[i]! - pr[i]! - (rc[i]! - rr[i]!);
      return -(1 - eps) * logSigmoid(beta * h) - eps * logSigmoid(-beta * h);
    });
    return losses.reduce((a, b) => a + b, 0) / losses.length;
  };

  it('equals the hand-computed loss, rewards, margin and accuracy', () => {
    // h = [2 - 0.5, -1 - (-0.6), 1.5 - 0.5] = [1.5, -0.4, 1.0]
    tf.tidy(() => {
      const out = dpoLoss(inputs(), { beta: 0.1 });
      expect(num(out.loss)).toBeCloseTo(byHand(0.1, 0), 5);
      // -log sig(0.15), -log sig(-0.04), -log sig(0.1), averaged
      expect(num(out.loss)).toBeCloseTo((0.62096 + 0.71335 + 0.64440) / 3, 4); // 0.65957
      // beta * (policy - reference): chosen [0.05, -0.02, 0.05], rejected [-0.1, 0.02, -0.05]
      arr(out.chosenRewards).forEach((r, i) => expect(r).toBeCloseTo([0.05, -0.02, 0.05][i]!, 5));
      arr(out.rejectedRewards).forEach((r, i) => expect(r).toBeCloseTo([-0.1, 0.02, -0.05][i]!, 5));
      expect(num(out.margin)).toBeCloseTo((0.15 - 0.04 + 0.1) / 3, 5);
      expect(num(out.accuracy)).toBeCloseTo(2 / 3, 5);
    });
  });

  it('with label smoothing (cDPO) equals the hand-computed loss', () => {
    tf.tidy(() => {
      const got = num(dpoLoss(inputs(), { beta: 0.5, labelSmoothing: 0.2 }).loss);
      expect(got).toBeCloseTo(byHand(0.5, 0.2), 5);
      expect(Math.abs(got - byHand(0.5, 0))).toBeGreaterThan(0.05); // the smoothing term really counts
    });
  });

  it('is exactly log 2 when the policy equals the reference, with or without smoothing', () => {
    tf.tidy(() => {
      const same = { policyChosen: tf.tensor1d(rc), policyRejected: tf.tensor1d(rr), referenceChosen: tf.tensor1d(rc), referenceRejected: tf.tensor1d(rr) };
      expect(num(dpoLoss(same).loss)).toBeCloseTo(Math.LN2, 6);
      expect(num(dpoLoss(same, { beta: 2, labelSmoothing: 0.3 }).loss)).toBeCloseTo(Math.LN2, 6);
      expect(num(dpoLoss(same).accuracy)).toBe(0); // equal rewards are not a win
    });
  });

  it('has the right gradient w.r.t. the policy log-probs; the gradient pushes chosen up and rejected down', () => {
    const x = inputs();
    const f = (c: tf.Tensor, r: tf.Tensor) =>
      dpoLoss({ ...x, policyChosen: c as tf.Tensor1D, policyRejected: r as tf.Tensor1D }, { beta: 0.7, labelSmoothing: 0.1 }).loss;
    expect(gradientMismatches(f, [], [['policyChosen', x.policyChosen], ['policyRejected', x.policyRejected]], { eps: 1e-2 })).toEqual([]);
    const [gc, gr] = tf.grads(f)([x.policyChosen, x.policyRejected]);
    for (const g of arr(gc!)) expect(g).toBeLessThan(0);
    for (const g of arr(gr!)) expect(g).toBeGreaterThan(0);
    tf.dispose([gc!, gr!, ...Object.values(x)]);
  });

  it('leaks no tensors and rejects bad options', () => {
    const x = inputs();
    const before = tf.memory().numTensors;
    const out = dpoLoss(x);
    tf.dispose([out.loss, out.chosenRewards, out.rejectedRewards, out.margin, out.accuracy]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => dpoLoss(x, { beta: 0 })).toThrow(/beta must be a finite number > 0/);
    expect(() => dpoLoss(x, { labelSmoothing: 0.7 })).toThrow(/labelSmoothing must be in \[0, 0.5\]/);
    expect(() => dpoLoss({ ...x, referenceRejected: tf.tensor1d([1, 2]) })).toThrow(/referenceRejected is \[2\]/);
    tf.dispose(Object.values(x));
  });
});

describe('bradleyTerryLoss', () => {
  it('equals -mean log sigmoid(rC - rR) by hand, and log 2 at equal rewards', () => {
    tf.tidy(() => {
      const out = bradleyTerryLoss(tf.tensor1d([2, 0.5]), tf.tensor1d([1, 1.5]));
      // differences [1, -1]: (log(1 + e^-1) + log(1 + e^1)) / 2
      expect(num(out.loss)).toBeCloseTo((Math.log(1 + Math.exp(-1)) + Math.log(1 + Math.exp(1))) / 2, 5);
      expect(num(out.loss)).toBeCloseTo(0.81326, 4);
      expect(num(out.accuracy)).toBeCloseTo(0.5, 6);
      expect(num(bradleyTerryLoss(tf.tensor1d([0.3, -2]), tf.tensor1d([0.3, -2])).loss)).toBeCloseTo(Math.LN2, 6);
    });
  });

  it('subtracts a per-pair margin and adds the centring term', () => {
    tf.tidy(() => {
      const [c, r, m] = [[2, 0.5], [1, 1.5], [0.5, -0.25]];
      const out = bradleyTerryLoss(tf.tensor1d(c), tf.tensor1d(r), { margin: tf.tensor1d(m), centerRewardsCoefficient: 0.01 });
      const base = -(logSigmoid(2 - 1 - 0.5) + logSigmoid(0.5 - 1.5 + 0.25)) / 2;
      const centre = 0.01 * ((2 + 1) ** 2 + (0.5 + 1.5) ** 2) / 2;
      expect(num(out.loss)).toBeCloseTo(base + centre, 5);
    });
  });

  it('has the right gradient w.r.t. both rewards', () => {
    const [c, r] = [tf.tensor1d([0.4, -1.2, 2.0]), tf.tensor1d([0.9, -0.3, 1.1])];
    const f = (a: tf.Tensor, b: tf.Tensor) => bradleyTerryLoss(a as tf.Tensor1D, b as tf.Tensor1D, { centerRewardsCoefficient: 0.1 }).loss;
    expect(gradientMismatches(f, [], [['rewardChosen', c], ['rewardRejected', r]])).toEqual([]);
    tf.dispose([c, r]);
  });
});
