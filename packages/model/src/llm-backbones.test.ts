import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@mllm/core';
import { buildModel, collatePrompts, createComponentRegistry, type TokenizedSample } from './index';
import { prefixLengthsFromWeights } from './batch';
import { greedyByRecompute } from './greedy-recompute.test-helper';

const IMAGE = 4;
const PAD = 0;
const encoder = { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 1, heads: 2 };
const make = (llm: Record<string, unknown>, connector: Record<string, unknown> = { type: 'mlp' }) =>
  buildModel({ encoder, connector, llm }, { registry: createComponentRegistry(), vocabSize: 12, special: { imageTokenId: IMAGE, padId: PAD }, seed: 1 });
const img = (v: number) => new Float32Array(8 * 8 * 3).map((_, i) => ((i * 7) % 11) / 11 * v);
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0]!);

const samples: TokenizedSample[] = [
  { ids: [1, IMAGE, 7, 8, 9, 2], lossMask: [0, 0, 0, 0, 1, 1], images: [img(0.3)] },
  { ids: [1, 7, IMAGE, 6, 5, 10, 11, 2], lossMask: [0, 0, 0, 0, 0, 1, 1, 1], images: [img(0.8)] },
];
const backbones = {
  prefix: { type: 'prefix', dim: 16, layers: 1, heads: 2 },
  'encoder-decoder': { type: 'encoder-decoder', dim: 16, layers: 1, heads: 2 },
};

describe('prefix lengths from batches', () => {
  it('a training row\'s prefix ends at its first trained token, after image expansion; a prompt is all prefix', () => {
    const model = make(backbones.prefix);
    const batch = model.collate(samples);
    // 4 image tokens each: row 0 trains from expanded position 3 + 4 - 1 = 6, row 1 from 5 + 3 = 8
    expect(batch.prefixLengths).toEqual([7, 8]);
    expect(prefixLengthsFromWeights(batch.weights)).toEqual(batch.prefixLengths);
    expect(prefixLengthsFromWeights([[0, 0], [1, 1]])).toEqual([2, 1]); // nothing trained: all prefix; text pretraining: causal
    const prompts = collatePrompts(samples, model.batchOptions);
    expect(prompts.prefixLengths).toEqual([11, 11]);
  });
});

for (const [name, llm] of Object.entries(backbones)) {
  describe(`MultimodalModel with the ${name} LLM`, () => {
    it('passes the batch prefix to the LLM: a prompt token reads a later prompt token', () => {
      const model = make(llm);
      const batch = model.collate(samples);
      const changed = { ...batch, inputIds: batch.inputIds.map((row, r) => (r === 0 ? row.map((id, t) => (t === 5 ? 8 : id)) : row)) };
      // row 0: image at 1..4, then 7 (position 5) in the prompt; its answer is read from position 6 on
      const a = model.forward(batch);
      const b = model.forward(changed);
      expect(maxDiff(a.slice([0, 6, 0], [1, 1, -1]), b.slice([0, 6, 0], [1, 1, -1]))).toBeGreaterThan(1e-5);
      if (name === 'prefix') expect(maxDiff(a.slice([0, 0, 0], [1, 1, -1]), b.slice([0, 0, 0], [1, 1, -1]))).toBeGreaterThan(1e-5);
      // without its prefixes (weights and prefixLengths dropped) the batch is read causally: position 5
      // no longer sees position 6 (prefix LM), or is decoded instead of encoded (encoder-decoder)
      const { weights: _w, prefixLengths: _p, ...bare } = batch;
      const c = model.forward(bare);
      expect(maxDiff(a.slice([0, 5, 0], [1, 1, -1]), c.slice([0, 5, 0], [1, 1, -1]))).toBeGreaterThan(1e-5);
    });

    it('KV-cache generation from image prompts equals greedy by full recompute', () => {
      const model = make(llm);
      const prompts = [
        { ids: [1, IMAGE, 7], lossMask: [0, 0, 0], images: [img(0.2)] },
        { ids: [1, 7, 6, IMAGE, 5], lossMask: [0, 0, 0, 0, 0], images: [img(0.9)] },
      ];
      const cached = model.generate(prompts, { maxNewTokens: 6, stopTokens: [] });
      expect(cached).toEqual(greedyByRecompute(model, prompts, 6));
    });

    it('the response loss falls in a few steps, and every part of the model gets a gradient', () => {
      const model = make(llm);
      const batch = model.collate(samples);
      const params = model.trainableParameters().map(([, p]) => p);
      const { grads } = tf.variableGrads(() => model.loss(batch), params);
      for (const [n, p] of model.trainableParameters()) if (/multi_modal_projector|encoder\.layers\.0\.self_attn\.q_proj|embed_tokens/.test(n)) expect(tf.abs(grads[p.name]!).sum().dataSync()[0], n).toBeGreaterThan(0);
      tf.dispose(grads);
      const opt = tf.train.adam(0.01);
      const first = tf.tidy(() => model.loss(batch).dataSync()[0]!);
      for (let i = 0; i < 15; i++) tf.tidy(() => {
        opt.minimize(() => model.loss(batch));
      });
      expect(tf.tidy(() => model.loss(batch).dataSync()[0]!)).toBeLessThan(first * 0.6);
    });
  });
}

describe('fusion connectors and the new backbones', () => {
  it('the encoder-decoder refuses a fusion connector by name, saying it exposes no fusion point', () => {
    let error: unknown;
    try {
      make(backbones['encoder-decoder'], { type: 'gated-cross-attention' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toMatch(/gated-cross-attention plugs into the LLM's before-layer fusion point, which llm type "encoder-decoder" does not expose \(it has: none\)/);
  });

  it('the prefix LM keeps the causal decoder\'s fusion points: gated cross-attention trains through it', () => {
    const model = make(backbones.prefix, { type: 'gated-cross-attention' });
    const batch = model.collate([{ ids: [1, IMAGE, 7, 8, 9, 2], lossMask: [0, 0, 0, 0, 1, 1], images: [img(0.3)] }]);
    const loss = model.loss(batch).dataSync()[0]!;
    expect(Number.isFinite(loss)).toBe(true);
  });
});
