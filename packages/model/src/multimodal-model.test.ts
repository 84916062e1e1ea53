import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@mllm/core';
import { buildModel, createComponentRegistry, collateTraining } from './index';

const IMAGE = 4;
const PAD = 0;
const config = {
  encoder: { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 2, heads: 2 },
  connector: { type: 'mlp' },
  llm: { type: 'causal', dim: 16, layers: 1, heads: 2 },
};
const make = () => buildModel(config, { registry: createComponentRegistry(), vocabSize: 12, special: { imageTokenId: IMAGE, padId: PAD }, seed: 1 });
const img = (v: number) => new Float32Array(8 * 8 * 3).fill(v);

describe('MultimodalModel', () => {
  it('splices M visual tokens at every <image>, several images per sequence', () => {
    const model = make();
    expect(model.tokensPerImage).toBe(4);
    const batch = collateTraining(
      [
        { ids: [1, IMAGE, 7, IMAGE, 8, 2], lossMask: [0, 0, 0, 0, 1, 1], images: [img(0.2), img(0.9)] },
        { ids: [1, 7, IMAGE, 9], lossMask: [0, 0, 0, 1], images: [img(0.5)] },
      ],
      model.batchOptions,
    );
    expect(batch.slots).toEqual([{ row: 0, start: 1 }, { row: 0, start: 6 }, { row: 1, start: 2 }]);
    const embeds = model.embed(batch.inputIds, batch.images, batch.slots);
    const visual = model.encodeImages(model.imagesToTensor(batch.images));
    const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(a.sub(b))).dataSync()[0]!;
    expect(maxDiff(embeds.slice([0, 6, 0], [1, 4, -1]).squeeze([0]), visual.slice([1, 0, 0], [1, -1, -1]).squeeze([0]))).toBeLessThan(1e-6);
    expect(maxDiff(embeds.slice([1, 2, 0], [1, 4, -1]).squeeze([0]), visual.slice([2, 0, 0], [1, -1, -1]).squeeze([0]))).toBeLessThan(1e-6);
    const textEmbed = model.llm.embed(tf.tensor2d([[7]], [1, 1], 'int32')).reshape([-1]);
    expect(maxDiff(embeds.slice([0, 5, 0], [1, 1, -1]).reshape([-1]), textEmbed)).toBeLessThan(1e-6);
    // loss weights are the shifted response mask; image placeholders are never targets
    expect(batch.weights[1]).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
  });

  it('gradients reach the connector and the encoder through the splice', () => {
    const model = make();
    const batch = model.collate([{ ids: [1, IMAGE, 7, 8, 2], lossMask: [0, 0, 0, 1, 1], images: [img(0.3)] }]);
    const vars = model.trainableParameters().filter(([n]) => /multi_modal_projector|vision_tower.embeddings/.test(n));
    const { grads } = tf.variableGrads(() => model.loss(batch), vars.map(([, p]) => p));
    for (const [, p] of vars) expect(tf.abs(grads[p.name]!).sum().dataSync()[0]).toBeGreaterThan(0);
  });

  it('rejects an unknown connector type and a mismatched image count with clear errors', () => {
    expect(() =>
      buildModel({ ...config, connector: { type: 'mlpp' } }, { registry: createComponentRegistry(), vocabSize: 12, special: { imageTokenId: IMAGE, padId: PAD }, seed: 1 }),
    ).toThrow(ConfigError);
    const model = make();
    expect(() => model.collate([{ ids: [1, IMAGE, IMAGE], lossMask: [0, 0, 0], images: [img(0)] }])).toThrow(/2 <image> tokens but 1 images/);
  });

  it('greedy generation from an image prompt returns token ids and leaks no tensors', () => {
    const model = make();
    const prompts = [{ ids: [1, IMAGE, 7], lossMask: [0, 0, 0], images: [img(0.1)] }];
    model.generate(prompts, { maxNewTokens: 12, stopTokens: [] }); // builds the cached RoPE tables once
    const before = tf.memory().numTensors;
    const out = model.generate([{ ids: [1, IMAGE, 7], lossMask: [0, 0, 0], images: [img(0.1)] }, { ids: [1, 7, 7, IMAGE, 7], lossMask: [0, 0, 0, 0, 0], images: [img(0.8)] }], {
      maxNewTokens: 3,
      stopTokens: [],
    });
    expect(out.map((r) => r.length)).toEqual([3, 3]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
