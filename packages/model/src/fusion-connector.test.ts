import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { ConfigError, type ComponentRegistry } from '@mllm/core';
import { CausalLM, causalLmSchema } from '@mllm/llm';
import { GatedCrossAttention } from '@mllm/connector-fusion';
import { buildModel, createComponentRegistry, collateTraining, validateModelConfig, type MultimodalModel } from './index';
import { greedyByRecompute } from './greedy-recompute.test-helper';

const IMAGE = 4;
const PAD = 0;
const config = {
  encoder: { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 1, heads: 2 },
  connector: { type: 'gated-cross-attention', heads: 2, mlpRatio: 2 },
  llm: { type: 'causal', dim: 16, layers: 2, heads: 2 },
};
const special = { imageTokenId: IMAGE, padId: PAD };
const make = (connector: Record<string, unknown> = config.connector, registry: ComponentRegistry = createComponentRegistry()) =>
  buildModel({ ...config, connector }, { registry, vocabSize: 12, special, seed: 1 });
const img = (seed: number) => Float32Array.from({ length: 8 * 8 * 3 }, (_, i) => (Math.sin(i * 0.37 + seed * 1.7) + 1) / 2);
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0]!);
const span = (x: tf.Tensor3D, row: number, from: number, to: number) => x.slice([row, from, 0], [1, to - from, -1]);
const fusionOf = (model: MultimodalModel) => model.connector as GatedCrossAttention;
const openGates = (model: MultimodalModel, value = 0.8) => {
  for (const b of fusionOf(model).blocks.values()) {
    b.attnGate.assign(tf.tensor1d([value]));
    b.ffGate.assign(tf.tensor1d([value]));
  }
};
/** The bare LLM on the same ids: `<image>` is just a text token to it. */
const bareLogits = (model: MultimodalModel, ids: number[][], attentionMask: number[][]) =>
  tf.tidy(() => model.llm.forward(model.llm.embed(tf.tensor2d(ids, [ids.length, ids[0]!.length], 'int32')), { attentionMask }).logits);

describe('MultimodalModel with gated cross-attention', () => {
  it('keeps <image> as one text token and names the blocks under multi_modal_projector', () => {
    const model = make();
    expect(model.tokensPerImage).toBe(1);
    expect(Object.keys(model.stateDict())).toContain('multi_modal_projector.gated_cross_attn_layers.1.attn_gate');
    const batch = collateTraining([{ ids: [1, IMAGE, 7, 8], lossMask: [0, 0, 1, 1], images: [img(1)] }], model.batchOptions);
    expect(batch.inputIds).toEqual([[1, IMAGE, 7]]);
    expect(batch.slots).toEqual([{ row: 0, start: 1 }]);
    expect(() => model.encodeImages(model.imagesToTensor([img(1)]))).toThrow(/fusion connector makes no visual tokens/);
    // a batch without images runs the blocks' feed-forward only
    const textOnly = collateTraining([{ ids: [1, 7, 8, 2], lossMask: [0, 1, 1, 1], images: [] }], model.batchOptions);
    expect(model.forward(textOnly).shape).toEqual([1, 3, 12]);
  });

  it('with the gates at their initial 0 gives exactly the bare LLM logits', () => {
    const model = make();
    const batch = collateTraining(
      [
        { ids: [1, IMAGE, 7, 8, 2], lossMask: [0, 0, 1, 1, 1], images: [img(1)] },
        { ids: [1, 7, IMAGE, 9, IMAGE, 5, 2], lossMask: [0, 0, 0, 1, 0, 1, 1], images: [img(2), img(3)] },
      ],
      model.batchOptions,
    );
    expect(maxDiff(model.forward(batch), bareLogits(model, batch.inputIds, batch.attentionMask))).toBeLessThan(1e-6);
  });

  it('with open gates the logits depend on the image, from its <image> marker on only', () => {
    const model = make();
    openGates(model);
    const sample = (image: Float32Array) => ({ ids: [1, 7, 3, IMAGE, 9, 5, 2], lossMask: [0, 0, 0, 0, 1, 1, 1], images: [image] });
    const a = collateTraining([sample(img(1))], model.batchOptions);
    const b = collateTraining([sample(img(5))], model.batchOptions);
    const la = model.forward(a);
    const lb = model.forward(b);
    expect(maxDiff(la, bareLogits(model, a.inputIds, a.attentionMask))).toBeGreaterThan(1e-3);
    // positions 0-2 precede the image: no image can reach them
    expect(maxDiff(span(la, 0, 0, 3), span(lb, 0, 0, 3))).toBe(0);
    expect(maxDiff(span(la, 0, 3, 6), span(lb, 0, 3, 6))).toBeGreaterThan(1e-4);
  });

  it('with two images per row a position reads only the image before it', () => {
    const model = make();
    openGates(model);
    const sample = (first: Float32Array, second: Float32Array) => ({ ids: [1, IMAGE, 7, 3, IMAGE, 9, 2], lossMask: [0, 0, 0, 0, 0, 1, 1], images: [first, second] });
    const base = model.forward(collateTraining([sample(img(1), img(2))], model.batchOptions));
    const other = model.forward(collateTraining([sample(img(7), img(2))], model.batchOptions));
    // positions 1-3 see the first image directly; from 4 on only the second one is cross-attended,
    // but self-attention still carries what 1-3 read from the first
    expect(maxDiff(span(base, 0, 0, 1), span(other, 0, 0, 1))).toBe(0);
    expect(maxDiff(span(base, 0, 1, 4), span(other, 0, 1, 4))).toBeGreaterThan(1e-4);
    const layout = collateTraining([sample(img(1), img(2))], model.batchOptions);
    expect(layout.slots).toEqual([{ row: 0, start: 1 }, { row: 0, start: 4 }]);
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
    // the gates matter here, so agreement is not two text-only runs agreeing
    const bare = make();
    expect(bare.generate(prompts, { maxNewTokens: 6, stopTokens: [] })).not.toEqual(cached);
  });

  it('with open gates gradients reach the encoder and the media projection through the plug point', () => {
    const model = make();
    openGates(model);
    const batch = model.collate([{ ids: [1, IMAGE, 7, 8, 2], lossMask: [0, 0, 1, 1, 1], images: [img(2)] }]);
    const vars = model.trainableParameters().filter(([n]) => /vision_tower.embeddings|multi_modal_projector.media_proj|gated_cross_attn_layers.1.attn.k_proj/.test(n));
    expect(vars.length).toBeGreaterThan(2);
    const { grads } = tf.variableGrads(() => model.loss(batch), vars.map(([, p]) => p));
    for (const [name, p] of vars) expect([name, tf.abs(grads[p.name]!).sum().dataSync()[0]! > 0]).toEqual([name, true]);
  });

  it('training only the connector lowers the loss from the closed-gate start', () => {
    const model = make();
    // a fresh lm_head (std 0.02) after the final RMSNorm caps every logit near 0.1, so no
    // connector could move the loss far from ln(V); a trained head is what a frozen LLM brings
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
    // the rows differ only in their image, so the gates must have opened to tell them apart
    expect(Math.abs(fusionOf(model).blocks.get(0)!.attnGate.dataSync()[0]!)).toBeGreaterThan(0);
  });

  it('names connector.every when it is 0 or more than the LLM has layers', () => {
    const issuesOf = (connector: Record<string, unknown>) => {
      try {
        make(connector);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).issues;
      }
      throw new Error('expected a ConfigError');
    };
    expect(issuesOf({ type: 'gated-cross-attention', every: 0 })).toEqual([
      { path: 'connector.every', message: 'every must be >= 1: a cross-attention block goes before every k-th decoder layer' },
    ]);
    expect(issuesOf({ type: 'gated-cross-attention', every: 3 })).toEqual([
      { path: 'connector.every', message: "every 3 is more than the LLM's 2 decoder layers, so no block would be inserted; use 1..2" },
    ]);
    expect(make({ type: 'gated-cross-attention', every: 2 }).numParameters()).toBeGreaterThan(0);
  });

  it('refuses an LLM that lacks the before-layer plug point, naming both slots', () => {
    class NoFusionLM extends CausalLM {
      override readonly fusionPoints = [] as const;
    }
    const registry = createComponentRegistry();
    registry.llms.register('no-fusion', z.looseObject({ type: z.literal('no-fusion') }), (c, { rng, vocabSize }) =>
      new NoFusionLM(causalLmSchema.parse({ ...c, type: 'causal' }), vocabSize, rng),
    );
    expect(() => buildModel({ ...config, llm: { ...config.llm, type: 'no-fusion' } }, { registry, vocabSize: 12, special, seed: 1 })).toThrow(
      /connector.type: gated-cross-attention plugs into the LLM's before-layer fusion point, which llm type "no-fusion" does not expose \(it has: none\)/,
    );
  });

  it('configs/gated-cross-attention.json builds: a block before each of the LLM layers, one token per <image>', () => {
    // the file extends configs/default.json; its connector, of another type, replaces the default's whole
    const read = (name: string) => JSON.parse(readFileSync(new URL(`../../../configs/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
    const config = { ...read('default'), ...read('gated-cross-attention') };
    expect(validateModelConfig(config, createComponentRegistry()).issues).toEqual([]);
    const model = buildModel(config, { registry: createComponentRegistry(), vocabSize: 40, special, seed: 0 });
    expect(model.tokensPerImage).toBe(1);
    expect([...fusionOf(model).blocks.keys()]).toEqual(Array.from({ length: model.llm.numLayers }, (_, i) => i));
    model.dispose();
  });
});
