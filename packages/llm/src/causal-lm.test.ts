import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng, maskedCrossEntropy, checkParameterGradients } from '@mllm/core';
import { CausalLM, causalLmSchema, positionsFromMask } from './causal-lm';
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
});
