import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { ConfigError } from '@mllm/core';
import type { VisualExpert } from '@mllm/connector-fusion';
import { buildModel, createComponentRegistry, collateTraining, validateModelConfig, type MultimodalModel } from './index';
import { greedyByRecompute } from './greedy-recompute.test-helper';

const IMAGE = 4;
const PAD = 0;
const config = {
  encoder: { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 1, heads: 2 },
  connector: { type: 'visual-expert', projection: { type: 'mlp', depth: 2 } },
  llm: { type: 'causal', dim: 16, layers: 2, heads: 2 },
};
const special = { imageTokenId: IMAGE, padId: PAD };
const make = (connector: Record<string, unknown> = config.connector) => buildModel({ ...config, connector }, { registry: createComponentRegistry(), vocabSize: 12, special, seed: 1 });
const img = (seed: number) => Float32Array.from({ length: 8 * 8 * 3 }, (_, i) => (Math.sin(i * 0.37 + seed * 1.7) + 1) / 2);
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0]!);
const expertOf = (model: MultimodalModel) => model.connector as VisualExpert;
const span = (x: tf.Tensor3D, row: number, from: number, to: number) => x.slice([row, from, 0], [1, to - from, -1]);
/** Moves every expert weight off its text copy, so routing visibly matters. */
const perturbExperts = (model: MultimodalModel, scale = 0.3) => {
  expertOf(model).experts.forEach((e, i) =>
    e.parameters().forEach((p, k) => p.assign(tf.tidy(() => p.add(tf.randomNormal(p.shape, 0, scale, 'float32', 100 + 10 * i + k))))),
  );
};
const bareLogits = (model: MultimodalModel, ids: number[][], attentionMask: number[][]) =>
  tf.tidy(() => model.llm.forward(model.llm.embed(tf.tensor2d(ids, [ids.length, ids[0]!.length], 'int32')), { attentionMask }).logits);
const samples = () => [
  { ids: [1, IMAGE, 7, 8, 2], lossMask: [0, 0, 1, 1, 1], images: [img(1)] },
  { ids: [1, 7, IMAGE, 9, IMAGE, 5, 2], lossMask: [0, 0, 0, 1, 0, 1, 1], images: [img(2), img(3)] },
];

describe('MultimodalModel with visual-expert', () => {
  it('splices the projection tokens at <image> and starts each expert as a copy of its layer', () => {
    const model = make();
    expect(model.tokensPerImage).toBe(model.encoder.numTokens);
    const state = model.stateDict();
    expect(state['multi_modal_projector.projection.linear_2.weight']!.shape).toEqual([16, 16]);
    for (const name of ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'])
      for (const layer of [0, 1])
        expect([name, layer, maxDiff(state[`multi_modal_projector.experts.${layer}.${name}.weight`]!, state[`language_model.model.layers.${layer}.${name}.weight`]!)]).toEqual([name, layer, 0]);
  });

  it('routes exactly the M positions from each <image> slot, located by the cached length', () => {
    const model = make();
    const m = model.tokensPerImage;
    const features = tf.zeros([2, model.encoder.numTokens, 8]) as tf.Tensor3D;
    // row 0: image at 1; row 1: image at 2 (rows are 2 + M + 2 long)
    const fusion = expertOf(model).bind(features, [{ row: 0, start: 1 }, { row: 1, start: 2 }], 2);
    const t = m + 4;
    const routed = (past: number, queries: number) => {
      const r = fusion.routing!(0, { past }, queries);
      return r ? (r.imageMask.arraySync() as number[][][]).map((row) => row.map(([v]) => v)) : undefined;
    };
    const span = (from: number, length: number) => Array.from({ length: t }, (_, p) => (p >= from && p < from + m ? 1 : 0));
    expect(routed(0, t)).toEqual([span(1, m), span(2, m)]);
    // a chunk of 2 queries from position m: row 0 has its last image position first, row 1 its last two
    expect(routed(m, 2)).toEqual([[1, 0], [1, 1]]);
    // decoding past the prompt: no image position, no routing
    expect(routed(t, 1)).toBeUndefined();
    fusion.dispose();
  });

  it('without image positions the logits are the bare LLM, whatever the experts hold', () => {
    const model = make();
    perturbExperts(model);
    const batch = collateTraining([{ ids: [1, 7, 8, 9, 2], lossMask: [0, 1, 1, 1, 1], images: [] }], model.batchOptions);
    expect(maxDiff(model.forward(batch), bareLogits(model, batch.inputIds, batch.attentionMask))).toBeLessThan(1e-6);
  });

  it('with fresh experts equals the LLaVA model with the same projection; trained experts move the image positions and what follows', () => {
    const model = make();
    const llava = make({ type: 'mlp', depth: 2 });
    const projection = Object.fromEntries(Object.entries(expertOf(model).projection.stateDict()));
    llava.connector.loadStateDict(projection);
    const batch = collateTraining(samples(), model.batchOptions);
    const ours = model.forward(batch);
    expect(maxDiff(ours, llava.forward(batch))).toBeLessThan(1e-5);
    perturbExperts(model);
    const routed = model.forward(batch);
    // row 0: position 0 is text before the image; the image covers 1..M
    expect(maxDiff(span(routed, 0, 0, 1), span(ours, 0, 0, 1))).toBeLessThan(1e-6);
    expect(maxDiff(span(routed, 0, 1, 2), span(ours, 0, 1, 2))).toBeGreaterThan(1e-4);
    expect(maxDiff(span(routed, 0, 1 + model.tokensPerImage, 2 + model.tokensPerImage), span(ours, 0, 1 + model.tokensPerImage, 2 + model.tokensPerImage))).toBeGreaterThan(1e-4);
  });

  it('KV-cache generation equals greedy by full recompute, left padding included, and leaks nothing', () => {
    const model = make();
    perturbExperts(model, 0.6);
    const prompts = [
      { ids: [1, IMAGE, 7], lossMask: [0, 0, 0], images: [img(1)] },
      { ids: [1, 7, 7, IMAGE, 7], lossMask: [0, 0, 0, 0, 0], images: [img(4)] },
    ];
    model.generate(prompts, { maxNewTokens: 6, stopTokens: [] }); // builds the cached RoPE tables once
    const before = tf.memory().numTensors;
    const cached = model.generate(prompts, { maxNewTokens: 6, stopTokens: [] });
    expect(tf.memory().numTensors).toBe(before);
    expect(cached).toEqual(greedyByRecompute(model, prompts, 6));
    // the experts matter here, so agreement is not the text path agreeing with itself
    expect(make().generate(prompts, { maxNewTokens: 6, stopTokens: [] })).not.toEqual(cached);
  });

  it('re-copies untouched experts from the LLM at the first bind with images, and keeps trained or loaded ones', () => {
    const q = (model: MultimodalModel, who: 'llm' | 'expert') =>
      model.stateDict()[who === 'llm' ? 'language_model.model.layers.1.self_attn.q_proj.weight' : 'multi_modal_projector.experts.1.self_attn.q_proj.weight'] as tf.Variable;
    const batch = (m: MultimodalModel) => collateTraining(samples(), m.batchOptions);
    // stage pretrain-llm trains the LLM after buildModel; text-only batches do not trigger the copy
    const model = make();
    q(model, 'llm').assign(q(model, 'llm').mul(1.5));
    model.forward(collateTraining([{ ids: [1, 7, 8], lossMask: [0, 1, 1], images: [] }], model.batchOptions));
    expect(maxDiff(q(model, 'expert'), q(model, 'llm'))).toBeGreaterThan(1e-3);
    model.forward(batch(model));
    expect(maxDiff(q(model, 'expert'), q(model, 'llm'))).toBe(0);
    // only the first bind copies: later LLM changes stay out of the experts
    q(model, 'llm').assign(q(model, 'llm').mul(2));
    model.forward(batch(model));
    expect(maxDiff(q(model, 'expert'), q(model, 'llm'))).toBeGreaterThan(1e-3);
    // a resumed run loads trained experts before its first bind; they are kept
    const resumed = make();
    const trained = tf.tidy(() => q(model, 'expert').mul(0.5));
    resumed.loadStateDict({ 'multi_modal_projector.experts.1.self_attn.q_proj.weight': trained }, { strict: false });
    resumed.forward(batch(resumed));
    expect(maxDiff(q(resumed, 'expert'), trained)).toBe(0);
  });

  it('training only the connector lowers the loss and leaves the LLM untouched', () => {
    const model = make();
    // a fresh lm_head (std 0.02) caps every logit near 0.1; a trained head is what a frozen LLM brings
    const head = model.llm.stateDict()['lm_head.weight'] as tf.Variable;
    head.assign(head.mul(50));
    model.encoder.freeze();
    model.llm.freeze();
    const batch = collateTraining(
      [
        { ids: [1, IMAGE, 7, 8, 2], lossMask: [0, 0, 1, 1, 1], images: [img(1)] },
        { ids: [1, IMAGE, 9, 5, 2], lossMask: [0, 0, 1, 1, 1], images: [img(6)] },
      ],
      model.batchOptions,
    );
    const trained = model.trainableParameters();
    expect(trained.every(([n]) => n.startsWith('multi_modal_projector.'))).toBe(true);
    expect(trained.some(([n]) => n.includes('.experts.'))).toBe(true);
    const llmBefore = tf.tidy(() => tf.concat(model.llm.parameters().map((p) => p.flatten())));
    const opt = tf.train.adam(0.02);
    const first = tf.tidy(() => model.loss(batch).dataSync()[0]!);
    for (let i = 0; i < 30; i++) opt.minimize(() => model.loss(batch), false, trained.map(([, p]) => p));
    const last = tf.tidy(() => model.loss(batch).dataSync()[0]!);
    expect(last).toBeLessThan(first * 0.5);
    expect(maxDiff(tf.concat(model.llm.parameters().map((p) => p.flatten())), llmBefore)).toBe(0);
    // the experts trained too, not only the projection
    expect(maxDiff(model.stateDict()['multi_modal_projector.experts.0.mlp.up_proj.weight']!, model.stateDict()['language_model.model.layers.0.mlp.up_proj.weight']!)).toBeGreaterThan(1e-4);
  });

  it('reports a bad projection by its JSON path', () => {
    const issuesOf = (connector: Record<string, unknown>) => validateModelConfig({ ...config, connector }, createComponentRegistry()).issues;
    expect(issuesOf({ type: 'visual-expert', projection: { type: 'mlp', depth: 0 } })).toEqual([{ path: 'connector.projection.depth', message: 'Too small: expected number to be >=1' }]);
    expect(issuesOf({ type: 'visual-expert', projection: { type: 'mpl' } })[0]!.path).toBe('connector.projection.type');
    expect(issuesOf({ type: 'visual-expert', experts: 2 })).toEqual([{ path: 'connector', message: 'unknown field(s) "experts"' }]);
    let error: unknown;
    try {
      make({ type: 'visual-expert', projection: { type: 'gated-cross-attention' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      { path: 'connector.projection.type', message: 'gated-cross-attention is a fusion connector; the projection must make tokens: use a token-level type such as "mlp" or "linear"' },
    ]);
  });

  it('configs/visual-expert.json builds: an expert per LLM layer, M tokens per <image>', () => {
    // the file extends configs/default.json; its connector, of another type, replaces the default's whole
    const read = (name: string) => JSON.parse(readFileSync(new URL(`../../../configs/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
    const file = { ...read('default'), ...read('visual-expert') };
    expect(validateModelConfig(file, createComponentRegistry()).issues).toEqual([]);
    const model = buildModel(file, { registry: createComponentRegistry(), vocabSize: 40, special, seed: 0 });
    expect(model.tokensPerImage).toBe(model.encoder.numTokens);
    expect(expertOf(model).experts.length).toBe(model.llm.numLayers);
    model.dispose();
  });
});
