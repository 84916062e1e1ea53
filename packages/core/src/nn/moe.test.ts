import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { gradientMismatches } from '../grad-check';
import { TransformerBlock } from './transformer-block';
import { SparseMoeBlock, gatherRows, loadBalancingLoss, moeAux, routerZLoss, scatterAddRows } from './moe';

const rows = (t: tf.Tensor) => t.arraySync() as number[][];

/** Plain float64 Mixtral MoE written from HF MixtralSparseMoeBlock: every expert on every token, combined by the top-k weights. */
function referenceMoe(moe: SparseMoeBlock, x: number[][]): number[][] {
  const gate = rows(moe.gate.weight);
  const matVec = (w: number[][], v: number[]) => w.map((r) => r.reduce((a, c, i) => a + c * v[i]!, 0));
  return x.map((v) => {
    const logits = matVec(gate, v);
    const m = Math.max(...logits);
    const ex = logits.map((l) => Math.exp(l - m));
    const z = ex.reduce((a, c) => a + c, 0);
    const probs = ex.map((e) => e / z);
    const top = probs.map((p, e) => ({ p, e })).sort((a, b) => b.p - a.p || a.e - b.e).slice(0, moe.options.topK);
    const norm = top.reduce((a, c) => a + c.p, 0);
    const out = new Array<number>(v.length).fill(0);
    moe.experts.items.forEach((expert, e) => {
      const g = matVec(rows(expert.w1.weight), v);
      const u = matVec(rows(expert.w3.weight), v);
      const y = matVec(rows(expert.w2.weight), g.map((gi, i) => (gi / (1 + Math.exp(-gi))) * u[i]!));
      const w = top.find((t) => t.e === e);
      if (w) y.forEach((yi, i) => (out[i]! += (w.p / norm) * yi));
    });
    return out;
  });
}

/** A router whose probabilities are set by hand: D = E, token n is the unit vector e_n, so logits[n][e] = gate[e][n]. */
function handRouted(probs: number[][], shift: number[] = probs.map(() => 0), capacityFactor?: number): { moe: SparseMoeBlock; x: tf.Tensor3D } {
  const e = probs[0]!.length;
  const moe = new SparseMoeBlock(e, 3, { experts: e, topK: 2, capacityFactor }, new Rng(1));
  const gate = Array.from({ length: e }, (_, k) => Array.from({ length: e }, (_, n) => (n < probs.length ? Math.log(probs[n]![k]!) + shift[n]! : 0)));
  moe.gate.weight.assign(tf.tensor2d(gate));
  const x = tf.tensor3d([probs.map((_, n) => Array.from({ length: e }, (_, d) => (d === n ? 1 : 0)))]);
  return { moe, x };
}

const PROBS = [
  [0.4, 0.3, 0.2, 0.1], // top-2: 0, 1
  [0.1, 0.2, 0.3, 0.4], // 3, 2
  [0.5, 0.1, 0.1, 0.3], // 0, 3
];

describe('SparseMoeBlock', () => {
  it('routing weights are the chosen top-k probabilities renormalised to sum to 1', () => {
    const moe = new SparseMoeBlock(8, 12, { experts: 6, topK: 3 }, new Rng(2));
    const { routing } = moe.forwardRouted(tf.randomNormal([2, 5, 8], 0, 1, 'float32', 3) as tf.Tensor3D);
    const w = rows(routing.weights);
    const p = rows(routing.probs);
    w.forEach((row, n) => {
      expect(row.reduce((a, c) => a + c, 0)).toBeCloseTo(1, 6);
      const picked = row.map((v, e) => (v > 0 ? e : -1)).filter((e) => e >= 0);
      expect(picked).toHaveLength(3);
      const threshold = [...p[n]!].sort((a, b) => b - a)[2]!;
      for (const e of picked) expect(p[n]![e]!).toBeGreaterThanOrEqual(threshold);
      const norm = picked.reduce((a, e) => a + p[n]![e]!, 0);
      for (const e of picked) expect(row[e]).toBeCloseTo(p[n]![e]! / norm, 6);
    });
    expect(routing.chosen.reduce((a, c) => a + c, 0)).toBe(30);
    expect(routing.expertRows).toBe(30);
  });

  it('equals every expert run densely on every token, combined by the top-k weights (1e-5)', () => {
    const moe = new SparseMoeBlock(8, 12, { experts: 5, topK: 2 }, new Rng(4));
    const x = tf.randomNormal([3, 4, 8], 0, 1, 'float32', 5) as tf.Tensor3D;
    const got = rows(moe.forward(x).reshape([12, 8]));
    const want = referenceMoe(moe, rows(x.reshape([12, 8])));
    const diff = Math.max(...got.flatMap((r, i) => r.map((v, j) => Math.abs(v - want[i]![j]!))));
    expect(diff).toBeLessThan(1e-5);
  });

  it('computes only the chosen experts: k rows per token, padding none', () => {
    const moe = new SparseMoeBlock(8, 12, { experts: 8, topK: 2 }, new Rng(4));
    const x = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 6) as tf.Tensor3D;
    const { out, routing } = moe.forwardRouted(x, [
      [1, 1, 1],
      [0, 1, 1],
    ]);
    expect(routing.expertRows).toBe(5 * 2);
    expect(routing.tokens).toBe(5);
    expect(rows(out.reshape([6, 8]))[3]!.every((v) => v === 0)).toBe(true);
  });

  it('load-balancing loss equals HF load_balancing_loss_func on a hand-computed case', () => {
    const { moe, x } = handRouted(PROBS);
    const { routing } = moe.forwardRouted(x);
    // f = [2, 1, 1, 2] / 3, P = [1/3, 0.2, 0.2, 0.8/3]: 4 * sum f P = 19.2 / 9
    expect(loadBalancingLoss([routing]).dataSync()[0]).toBeCloseTo(19.2 / 9, 5);
    // padding left out: tokens 0 and 1 only; f = [1, 1, 1, 1] / 2, P = [0.25, 0.25, 0.25, 0.25]: 4 * 4 * 0.125 = 2
    const padded = moe.forwardRouted(x, [[1, 1, 0]]).routing;
    expect(loadBalancingLoss([padded]).dataSync()[0]).toBeCloseTo(2, 5);
    // two layers concatenate their tokens (HF), not an average of per-layer losses
    const both = loadBalancingLoss([routing, padded]).dataSync()[0]!;
    const f = [3, 2, 2, 3].map((c) => c / 5);
    const p = [0.4 + 0.1 + 0.5 + 0.4 + 0.1, 0.3 + 0.2 + 0.1 + 0.3 + 0.2, 0.2 + 0.3 + 0.1 + 0.2 + 0.3, 0.1 + 0.4 + 0.3 + 0.1 + 0.4].map((s) => s / 5);
    expect(both).toBeCloseTo(4 * f.reduce((a, fi, e) => a + fi * p[e]!, 0), 5);
  });

  it('router z-loss is the mean squared logsumexp of the logits', () => {
    // logits = log p + c per token: logsumexp = c, so z = mean(c^2) = (1 + 4 + 1) / 3
    const { moe, x } = handRouted(PROBS, [1, 2, -1]);
    const { routing } = moe.forwardRouted(x);
    expect(routerZLoss([routing]).dataSync()[0]).toBeCloseTo(2, 5);
    const aux = moeAux([routing], { auxLossCoef: 0.1, routerZLossCoef: 0.01 })!;
    expect(aux.loss.dataSync()[0]).toBeCloseTo(0.1 * (19.2 / 9) + 0.01 * 2, 5);
    expect(aux.expertUtilisation).toEqual([[2 / 6, 1 / 6, 1 / 6, 2 / 6]]);
  });

  it('the aux losses count only for a trainable router; a frozen one still reports them', () => {
    const { moe, x } = handRouted(PROBS, [1, 2, -1]);
    const options = { auxLossCoef: 0.1, routerZLossCoef: 0.01 };
    moe.freeze();
    const frozen = moeAux([moe.forwardRouted(x).routing], options)!;
    expect(frozen.loss.dataSync()[0]).toBe(0);
    expect(frozen.balance.dataSync()[0]).toBeCloseTo(19.2 / 9, 5);
    // with the router frozen the loss does not reach the input either (tf: no path from x to it)
    expect(() => tf.grad((input: tf.Tensor) => moeAux([moe.forwardRouted(input as tf.Tensor3D).routing], options)!.loss)(x)).toThrow(/Cannot compute gradient/);
    moe.unfreeze();
    expect(moeAux([moe.forwardRouted(x).routing], options)!.loss.dataSync()[0]).toBeCloseTo(0.1 * (19.2 / 9) + 0.01 * 2, 5);
  });

  it('capacity drops the tokens past an expert slots, first choices first, only while training', () => {
    // capacity = ceil(0.5 * 3 tokens * 2 / 4) = 1. First choices: t0 -> e0, t1 -> e3, t2 -> e0 (full: dropped);
    // second choices: t0 -> e1, t1 -> e2, t2 -> e3 (full: dropped). Token 2 passes through no expert.
    const { moe, x } = handRouted(PROBS, undefined, 0.5);
    const free = handRouted(PROBS).moe;
    free.loadStateDict(moe.stateDict());
    const { out, routing } = moe.forwardRouted(x);
    expect(routing.dropped).toBe(2);
    expect(routing.expertRows).toBe(4);
    const got = rows(out.reshape([3, 4]));
    const full = rows(free.forward(x).reshape([3, 4]));
    expect(got[2]!.every((v) => v === 0)).toBe(true);
    for (const n of [0, 1]) got[n]!.forEach((v, j) => expect(v).toBeCloseTo(full[n]![j]!, 6));
    expect(full[2]!.some((v) => v !== 0)).toBe(true);
    moe.eval();
    expect(moe.forwardRouted(x).routing.dropped).toBe(0);
  });

  it('gatherRows and scatterAddRows pass a finite-difference check with repeated rows', () => {
    const x = tf.randomNormal([4, 3], 0, 1, 'float32', 7) as tf.Tensor2D;
    const r = tf.randomNormal([5, 3], 0, 1, 'float32', 8);
    const index = Int32Array.from([2, 0, 2, 3, 2]);
    const f = (t: tf.Tensor) => scatterAddRows(gatherRows(t as tf.Tensor2D, index).mul(r) as tf.Tensor2D, index, 4).square().sum() as tf.Scalar;
    expect(gradientMismatches(f, [], [['x', x]], { eps: 1e-3 })).toEqual([]);
    // row 2 taken three times: its gradient is the sum of the three
    const g = rows(tf.grad((t: tf.Tensor) => gatherRows(t as tf.Tensor2D, index).sum())(x));
    expect(g.map((row) => row[0])).toEqual([1, 0, 3, 1]);
  });

  it('gradients through router and experts pass a finite-difference check (loss + aux losses)', () => {
    const moe = new SparseMoeBlock(6, 8, { experts: 4, topK: 2 }, new Rng(9));
    const x = tf.randomNormal([1, 5, 6], 0, 1, 'float32', 10) as tf.Tensor3D;
    const r = tf.randomNormal([1, 5, 6], 0, 1, 'float32', 11);
    const f = (input: tf.Tensor) => {
      const { out, routing } = moe.forwardRouted(input as tf.Tensor3D);
      const aux = moeAux([routing], { auxLossCoef: 0.5, routerZLossCoef: 0.1 })!;
      return out.mul(r).sum().add(aux.loss) as tf.Scalar;
    };
    const params = moe.trainableParameters().filter(([n]) => /^gate|experts\.[0-3]\.w[123]/.test(n));
    expect(params.length).toBe(13);
    expect(gradientMismatches(f, params, [['x', x]], { eps: 1e-3, samples: 6 })).toEqual([]);
  });

  it('in a decoder block it takes HF Mixtral names and shapes (block_sparse_moe.gate, experts.E.w1/w2/w3)', () => {
    const block = new TransformerBlock({ dim: 8, numHeads: 2, mlpHidden: 12, style: 'llama', ffn: { type: 'moe', experts: 3, topK: 2 } }, new Rng(1));
    const shapes = Object.fromEntries(Object.entries(block.stateDict()).map(([n, t]) => [n, t.shape]));
    expect(shapes['block_sparse_moe.gate.weight']).toEqual([3, 8]);
    expect(shapes['block_sparse_moe.experts.2.w1.weight']).toEqual([12, 8]);
    expect(shapes['block_sparse_moe.experts.2.w3.weight']).toEqual([12, 8]);
    expect(shapes['block_sparse_moe.experts.2.w2.weight']).toEqual([8, 12]);
    expect(Object.keys(shapes).filter((n) => n.includes('mlp'))).toEqual([]);
    const dense = new TransformerBlock({ dim: 8, numHeads: 2, mlpHidden: 12, style: 'llama' }, new Rng(1));
    expect(Object.keys(dense.stateDict())).toContain('mlp.gate_proj.weight');
  });

  it('refuses topK above the expert count', () => {
    expect(() => new SparseMoeBlock(4, 4, { experts: 2, topK: 3 }, new Rng(1))).toThrow(/topK must be between 1 and experts/);
  });

  it('frees every intermediate tensor', () => {
    const moe = new SparseMoeBlock(8, 12, { experts: 4, topK: 2 }, new Rng(2));
    const x = tf.randomNormal([2, 3, 8]) as tf.Tensor3D;
    moe.forward(x).dispose();
    const before = tf.memory().numTensors;
    moe.forward(x).dispose();
    tf.tidy(() => {
      moe.forwardRouted(x);
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
