import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { ConfigError } from '@mllm/core';
import type { AdapterPrompts } from '@mllm/connector-fusion';
import { buildModel, createComponentRegistry, collateTraining, validateModelConfig, type MultimodalModel } from './index';
import { greedyByRecompute } from './greedy-recompute.test-helper';

const IMAGE = 4;
const PAD = 0;
const config = {
  encoder: { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 1, heads: 2 },
  connector: { type: 'adapter-prompts', prompts: 3 },
  llm: { type: 'causal', dim: 16, layers: 3, heads: 2 },
};
const special = { imageTokenId: IMAGE, padId: PAD };
const make = (connector: Record<string, unknown> = config.connector) => buildModel({ ...config, connector }, { registry: createComponentRegistry(), vocabSize: 12, special, seed: 1 });
const img = (seed: number) => Float32Array.from({ length: 8 * 8 * 3 }, (_, i) => (Math.sin(i * 0.37 + seed * 1.7) + 1) / 2);
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0]!);
const adapterOf = (model: MultimodalModel) => model.connector as AdapterPrompts;
const openGates = (model: MultimodalModel, value = 0.8) => {
  for (const m of adapterOf(model).layers.values()) m.gate.assign(tf.fill([2], value));
};
const bareLogits = (model: MultimodalModel, ids: number[][], attentionMask: number[][]) =>
  tf.tidy(() => model.llm.forward(model.llm.embed(tf.tensor2d(ids, [ids.length, ids[0]!.length], 'int32')), { attentionMask }).logits);
const twoRows = () => [
  { ids: [1, IMAGE, 7, 8, 2], lossMask: [0, 0, 1, 1, 1], images: [img(1)] },
  { ids: [1, 7, IMAGE, 9, IMAGE, 5, 2], lossMask: [0, 0, 0, 1, 0, 1, 1], images: [img(2), img(3)] },
];

describe('MultimodalModel with adapter-prompts', () => {
  it('keeps <image> as one text token and adapts the top min(2, layers) decoder layers', () => {
    const model = make();
    expect(model.tokensPerImage).toBe(1);
    expect([...adapterOf(model).layers.keys()]).toEqual([1, 2]);
    expect(Object.keys(model.stateDict())).toContain('multi_modal_projector.adapter_layers.2.adaption_gate');
    expect(model.stateDict()['multi_modal_projector.adapter_layers.2.adaption_gate']!.shape).toEqual([2]);
  });

  it('with the gates at their initial 0 gives the bare LLM logits', () => {
    const model = make();
    const batch = collateTraining(twoRows(), model.batchOptions);
    expect(maxDiff(model.forward(batch), bareLogits(model, batch.inputIds, batch.attentionMask))).toBeLessThan(1e-6);
  });

  it('with open gates the logits depend on the image, in every position of its row (the prompts precede the sequence)', () => {
    const model = make();
    openGates(model);
    const sample = (image: Float32Array) => ({ ids: [1, 7, 3, IMAGE, 9, 5, 2], lossMask: [0, 0, 0, 0, 1, 1, 1], images: [image] });
    const a = collateTraining([sample(img(1))], model.batchOptions);
    const la = model.forward(a);
    const lb = model.forward(collateTraining([sample(img(5))], model.batchOptions));
    expect(maxDiff(la, bareLogits(model, a.inputIds, a.attentionMask))).toBeGreaterThan(1e-3);
    expect(maxDiff(la.slice([0, 0, 0], [1, 1, -1]), lb.slice([0, 0, 0], [1, 1, -1]))).toBeGreaterThan(1e-5);
  });

  it('KV-cache generation equals greedy by full recompute, left padding included, and leaks nothing', () => {
    const model = make();
    openGates(model, 1.5);
    const prompts = [
      { ids: [1, IMAGE, 7], lossMask: [0, 0, 0], images: [img(1)] },
      { ids: [1, 7, 7, IMAGE, 7], lossMask: [0, 0, 0, 0, 0], images: [img(4)] },
    ];
    model.generate(prompts, { maxNewTokens: 6, stopTokens: [] }); // builds the cached RoPE tables once
    const before = tf.memory().numTensors;
    const cached = model.generate(prompts, { maxNewTokens: 6, stopTokens: [] });
    expect(tf.memory().numTensors).toBe(before);
    expect(cached).toEqual(greedyByRecompute(model, prompts, 6));
    expect(make().generate(prompts, { maxNewTokens: 6, stopTokens: [] })).not.toEqual(cached);
  });

  it('training only the connector lowers the loss from the zero-gate start and opens the gates', () => {
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
    const opt = tf.train.adam(0.05);
    const first = tf.tidy(() => model.loss(batch).dataSync()[0]!);
    for (let i = 0; i < 40; i++) opt.minimize(() => model.loss(batch), false, trained.map(([, p]) => p));
    const last = tf.tidy(() => model.loss(batch).dataSync()[0]!);
    expect(last).toBeLessThan(first * 0.5);
    expect(tf.tidy(() => tf.abs(adapterOf(model).layers.get(2)!.gate).max().dataSync()[0]!)).toBeGreaterThan(0);
  });

  it('names connector.layers when it is more than the LLM has', () => {
    let error: unknown;
    try {
      make({ type: 'adapter-prompts', layers: 4 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([{ path: 'connector.layers', message: "layers 4 is more than the LLM's 3 decoder layers; use 1..3" }]);
    expect(validateModelConfig({ ...config, connector: { type: 'adapter-prompts', prompts: -1 } }, createComponentRegistry()).issues).toEqual([
      { path: 'connector.prompts', message: 'prompts must be >= 1: each adapted layer attends to this many learnable prompts' },
    ]);
  });

  it('configs/adapter-prompts.json builds: prompts in the top layers, one token per <image>', () => {
    // the file extends configs/default.json; its connector, of another type, replaces the default's whole
    const read = (name: string) => JSON.parse(readFileSync(new URL(`../../../configs/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
    const file = { ...read('default'), ...read('adapter-prompts') };
    expect(validateModelConfig(file, createComponentRegistry()).issues).toEqual([]);
    const model = buildModel(file, { registry: createComponentRegistry(), vocabSize: 40, special, seed: 0 });
    expect(model.tokensPerImage).toBe(1);
    expect(adapterOf(model).layers.size).toBe(Math.min(2, model.llm.numLayers));
    model.dispose();
  });
});
