import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng, maskedCrossEntropy } from '@mllm/core';
import { checkParameterGradients } from '@mllm/core/testing';
import { CausalLM, causalLmSchema } from './causal-lm';
import { positionsFromMask } from './positions';
import { generateFromEmbeddings } from './generate';

const make = (seed = 1) => new CausalLM(causalLmSchema.parse({ type: 'causal', dim: 16, layers: 2, heads: 4, kvHeads: 2 }), 11, new Rng(seed));
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(a.sub(b))).dataSync()[0]!;

describe('CausalLM', () => {
  it('uses HF LlamaForCausalLM names', () => {
    const names = Object.keys(make().stateDict());
    for (const n of ['model.embed_tokens.weight', 'model.layers.1.self_attn.k_proj.weight', 'model.layers.0.mlp.gate_proj.weight', 'model.norm.weight', 'lm_head.weight'])
      expect(names).toContain(n);
  });

  it('a future token cannot change a past logit', () => {
    const lm = make();
    const a = lm.forward(lm.embed(tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32'))).logits;
    const b = lm.forward(lm.embed(tf.tensor2d([[1, 2, 3, 9]], [1, 4], 'int32'))).logits;
    expect(maxDiff(a.slice([0, 0, 0], [1, 3, -1]), b.slice([0, 0, 0], [1, 3, -1]))).toBeLessThan(1e-6);
  });

  it('left padding does not change a row: positions and keys skip the pads', () => {
    const lm = make();
    const plain = lm.forward(lm.embed(tf.tensor2d([[5, 6, 7]], [1, 3], 'int32'))).logits;
    const padded = lm.forward(lm.embed(tf.tensor2d([[0, 0, 5, 6, 7]], [1, 5], 'int32')), { attentionMask: [[0, 0, 1, 1, 1]] }).logits;
    expect(maxDiff(plain, padded.slice([0, 2, 0], [1, 3, -1]))).toBeLessThan(1e-5);
    expect(positionsFromMask([[0, 0, 1, 1, 1]], 5)).toEqual([[0, 0, 0, 1, 2]]);
  });

  it('KV-cache greedy generation equals greedy by full recompute', () => {
    const lm = make(3);
    const prompt = [[2, 4, 6]];
    const cached = generateFromEmbeddings(lm, { embeds: lm.embed(tf.tensor2d(prompt, [1, 3], 'int32')), attentionMask: [[1, 1, 1]] }, { maxNewTokens: 6, stopTokens: [] })[0]!;
    const seq = [...prompt[0]!];
    for (let i = 0; i < 6; i++) {
      const logits = lm.forward(lm.embed(tf.tensor2d([seq], [1, seq.length], 'int32'))).logits;
      seq.push(logits.slice([0, seq.length - 1, 0], [1, 1, -1]).argMax(-1).dataSync()[0]!);
    }
    expect(cached).toEqual(seq.slice(3));
  });

  it('suppressed tokens are never emitted, greedy or sampled', () => {
    const lm = make(3);
    const embeds = () => lm.embed(tf.tensor2d([[2, 4, 6]], [1, 3], 'int32'));
    const greedy = generateFromEmbeddings(lm, { embeds: embeds(), attentionMask: [[1, 1, 1]] }, { maxNewTokens: 6, stopTokens: [] })[0]!;
    const banned = [...new Set(greedy)];
    const without = generateFromEmbeddings(lm, { embeds: embeds(), attentionMask: [[1, 1, 1]] }, { maxNewTokens: 6, stopTokens: [], suppressTokens: banned })[0]!;
    expect(without).toHaveLength(6);
    for (const id of without) expect(banned).not.toContain(id);
    const sampled = generateFromEmbeddings(lm, { embeds: embeds(), attentionMask: [[1, 1, 1]] }, { maxNewTokens: 40, stopTokens: [], temperature: 5, rng: new Rng(2), suppressTokens: [0, 1, 2, 3, 4] })[0]!;
    expect(sampled.filter((id) => id <= 4)).toEqual([]);
    expect(new Set(sampled).size).toBeGreaterThan(2); // hot sampling still spreads over the rest
  });

  it('LM loss passes a finite-difference check on its parameters', () => {
    const lm = make(4);
    const ids = tf.tensor2d([[1, 2, 3, 4, 5]], [1, 5], 'int32');
    const loss = () =>
      maskedCrossEntropy(
        lm.forward(lm.embed(ids.slice([0, 0], [1, 4]))).logits.reshape([4, 11]) as tf.Tensor2D,
        ids.slice([0, 1], [1, 4]).reshape([4]) as tf.Tensor1D,
        tf.ones([4]) as tf.Tensor1D,
      );
    const params = lm.trainableParameters().filter(([n]) => /layers\.0\.(self_attn\.q_proj|mlp\.up_proj|input_layernorm)|embed_tokens|lm_head/.test(n)).map(([, p]) => p);
    const r = checkParameterGradients(loss, params, { samples: 6 });
    expect(r.maxRelError).toBeLessThan(5e-2);
  });

  it('training steps lower the loss on a fixed sequence', () => {
    const lm = make(5);
    const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], 'int32');
    const opt = tf.train.adam(0.01);
    const loss = () =>
      maskedCrossEntropy(
        lm.forward(lm.embed(ids.slice([0, 0], [1, 7]))).logits.reshape([7, 11]) as tf.Tensor2D,
        ids.slice([0, 1], [1, 7]).reshape([7]) as tf.Tensor1D,
        tf.ones([7]) as tf.Tensor1D,
      );
    const first = loss().dataSync()[0]!;
    for (let i = 0; i < 30; i++) opt.minimize(loss);
    expect(loss().dataSync()[0]!).toBeLessThan(first * 0.5);
  });

  describe('with a Mixture-of-Experts feed-forward', () => {
    const moeConfig = (ffn: Record<string, unknown> = {}) =>
      causalLmSchema.parse({ type: 'causal', dim: 16, layers: 2, heads: 4, ffn: { type: 'moe', experts: 4, topK: 2, ...ffn } });
    const makeMoe = (seed = 1, ffn?: Record<string, unknown>) => new CausalLM(moeConfig(ffn), 11, new Rng(seed));

    it('defaults to dense, and parses the moe options with their defaults', () => {
      expect(causalLmSchema.parse({ type: 'causal' }).ffn).toEqual({ type: 'dense' });
      expect(moeConfig().ffn).toEqual({ type: 'moe', experts: 4, topK: 2, auxLossCoef: 0.01, routerZLossCoef: 0 });
      expect(causalLmSchema.safeParse({ type: 'causal', ffn: { type: 'moe', experts: 2, topK: 3 } }).success).toBe(false);
      expect(causalLmSchema.safeParse({ type: 'causal', ffn: { type: 'moe', expert: 8 } }).success).toBe(false);
    });

    it('uses HF MixtralForCausalLM names', () => {
      const names = Object.keys(makeMoe().stateDict());
      for (const n of ['model.layers.1.block_sparse_moe.gate.weight', 'model.layers.0.block_sparse_moe.experts.3.w2.weight', 'model.layers.0.self_attn.q_proj.weight'])
        expect(names).toContain(n);
      expect(names.some((n) => n.includes('.mlp.'))).toBe(false);
      expect(make().forward(make().embed(tf.tensor2d([[1, 2]], [1, 2], 'int32'))).aux).toBeUndefined();
    });

    it('returns the aux loss and per-layer utilisation of real tokens only', () => {
      const lm = makeMoe(2, { auxLossCoef: 0.1, routerZLossCoef: 0.01 });
      const { aux } = lm.forward(lm.embed(tf.tensor2d([[0, 0, 5, 6, 7]], [1, 5], 'int32')), { attentionMask: [[0, 0, 1, 1, 1]] });
      expect(aux!.expertUtilisation).toHaveLength(2);
      for (const u of aux!.expertUtilisation) expect(u.reduce((a, c) => a + c, 0)).toBeCloseTo(1, 6);
      expect(aux!.expertRows).toBe(2 * 3 * 2); // layers x real tokens x topK
      const want = 0.1 * aux!.balance.dataSync()[0]! + 0.01 * aux!.zLoss!.dataSync()[0]!;
      expect(aux!.loss.dataSync()[0]).toBeCloseTo(want, 6);
    });

    it('left padding does not change a row', () => {
      const lm = makeMoe(3);
      const plain = lm.forward(lm.embed(tf.tensor2d([[5, 6, 7]], [1, 3], 'int32'))).logits;
      const padded = lm.forward(lm.embed(tf.tensor2d([[0, 0, 5, 6, 7]], [1, 5], 'int32')), { attentionMask: [[0, 0, 1, 1, 1]] }).logits;
      expect(maxDiff(plain, padded.slice([0, 2, 0], [1, 3, -1]))).toBeLessThan(1e-5);
    });

    it('KV-cache decode equals full recompute', () => {
      const lm = makeMoe(3).eval();
      const prompt = [[2, 4, 6]];
      const cached = generateFromEmbeddings(lm, { embeds: lm.embed(tf.tensor2d(prompt, [1, 3], 'int32')), attentionMask: [[1, 1, 1]] }, { maxNewTokens: 6, stopTokens: [] })[0]!;
      const seq = [...prompt[0]!];
      for (let i = 0; i < 6; i++) {
        const logits = lm.forward(lm.embed(tf.tensor2d([seq], [1, seq.length], 'int32'))).logits;
        seq.push(logits.slice([0, seq.length - 1, 0], [1, 1, -1]).argMax(-1).dataSync()[0]!);
      }
      expect(cached).toEqual(seq.slice(3));
    });

    it('trains: loss + aux loss falls, and every parameter gets a gradient', () => {
      const lm = makeMoe(5, { capacityFactor: 1.5 });
      const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], 'int32');
      const opt = tf.train.adam(0.01);
      const lmLoss = () => {
        const { logits, aux } = lm.forward(lm.embed(ids.slice([0, 0], [1, 7])));
        const ce = maskedCrossEntropy(logits.reshape([7, 11]) as tf.Tensor2D, ids.slice([0, 1], [1, 7]).reshape([7]) as tf.Tensor1D, tf.ones([7]) as tf.Tensor1D);
        return ce.add(aux!.loss) as tf.Scalar;
      };
      const vars = lm.trainableParameters().map(([, p]) => p);
      const first = lmLoss().dataSync()[0]!;
      let reached = 0;
      for (let i = 0; i < 30; i++) {
        const { value, grads } = tf.variableGrads(lmLoss, vars);
        value.dispose();
        reached = Math.max(reached, Object.keys(grads).length);
        // an expert no token reached this step has no gradient; tf's Adam keys its moments by position, so fill zeros
        opt.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name] ?? tf.zerosLike(v) })));
      }
      expect(lmLoss().dataSync()[0]!).toBeLessThan(first * 0.5);
      expect(reached).toBe(vars.length);
    });
  });
});
