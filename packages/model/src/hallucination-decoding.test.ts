import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@mllm/core';
import { generateFromEmbeddings } from '@mllm/llm';
import { buildModel, collatePrompts, createComponentRegistry } from './index';
import { diffusionNoised } from './image-distortion';
import type { MultimodalModel } from './multimodal-model';
import type { TokenizedSample } from './batch';

const IMAGE = 4;
const config = {
  encoder: { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 2, heads: 2 },
  connector: { type: 'mlp' },
  llm: { type: 'causal', dim: 16, layers: 1, heads: 2 },
};
const make = () => buildModel(config, { registry: createComponentRegistry(), vocabSize: 12, special: { imageTokenId: IMAGE, padId: 0 }, seed: 1 });
const img = (seed: number) => new Float32Array(8 * 8 * 3).map((_, k) => ((k * 7919 + seed * 104729) % 97) / 96);
const prompts: TokenizedSample[] = [
  { ids: [1, IMAGE, 7], lossMask: [0, 0, 0], images: [img(1)] },
  { ids: [1, 7, 7, IMAGE, 9], lossMask: [0, 0, 0, 0, 0], images: [img(4)] },
];

/** VCD greedy the slow way: both inputs recomputed whole at every step, the contrast written out here. */
function vcdByRecompute(model: MultimodalModel, steps: number, alpha: number, beta: number, noiseStep: number, seed: number): number[][] {
  const batch = collatePrompts(prompts, model.batchOptions);
  const noised = diffusionNoised(batch.images, { noiseStep, seed }, model.encoder.pixelNormalization);
  const ids = batch.inputIds.map((r) => [...r]);
  const mask = batch.attentionMask.map((r) => [...r]);
  const last = (images: typeof batch.images) =>
    tf.tidy(() => {
      const logits = model.forward({ ...batch, images, inputIds: ids, attentionMask: mask });
      return logits.slice([0, ids[0]!.length - 1, 0], [-1, 1, -1]).squeeze([1]).arraySync() as number[][];
    });
  for (let step = 0; step < steps; step++) {
    const real = last(batch.images);
    const distorted = last(noised);
    const next = real.map((row, r) => {
      const cutoff = Math.log(beta) + Math.max(...row);
      const cd = row.map((l, v) => (l < cutoff ? -Infinity : (1 + alpha) * l - alpha * distorted[r]![v]!));
      return cd.indexOf(Math.max(...cd));
    });
    ids.forEach((row, i) => row.push(next[i]!));
    mask.forEach((row) => row.push(1));
  }
  return ids.map((r) => r.slice(batch.inputIds[0]!.length));
}

describe('MultimodalModel.generate with visual contrastive decoding', () => {
  it('strength 0 gives exactly the plain tokens', () => {
    const model = make();
    const plain = model.generate(prompts, { maxNewTokens: 6 });
    expect(model.generate(prompts, { maxNewTokens: 6, contrastive: { alpha: 0 }, imageNoise: { noiseStep: 999 } })).toEqual(plain);
  });

  it('contrasts with the diffusion-noised image, as a recomputation of both inputs says, and leaks no tensors', () => {
    const model = make();
    const options = { maxNewTokens: 6, contrastive: { alpha: 2, beta: 0.05 }, imageNoise: { noiseStep: 900, seed: 3 } };
    model.generate(prompts, options); // builds cached tables once
    const before = tf.memory().numTensors;
    const tokens = model.generate(prompts, options);
    expect(tf.memory().numTensors).toBe(before);
    expect(tokens).toEqual(vcdByRecompute(model, 6, 2, 0.05, 900, 3));
    expect(tokens).not.toEqual(model.generate(prompts, { maxNewTokens: 6 })); // the contrast changed something, so the check above saw it
  });

  it('streams the same tokens', async () => {
    const model = make();
    const options = { maxNewTokens: 5, contrastive: { alpha: 1 }, imageNoise: { seed: 2 } };
    const streamed: number[][] = [[], []];
    for await (const e of model.generateStream(prompts, options)) if (e.type === 'token') streamed[e.row]!.push(e.token);
    const whole = model.generate(prompts, { ...options, stopTokens: [] });
    expect(streamed).toEqual(whole);
  });

  it('refuses a diffusion step outside VCD\'s schedule', () => {
    const model = make();
    expect(() => model.generate(prompts, { maxNewTokens: 2, contrastive: { alpha: 1 }, imageNoise: { noiseStep: 1000 } })).toThrow(ConfigError);
    expect(() => model.generate(prompts, { maxNewTokens: 2, contrastive: { alpha: 1 }, imageNoise: { noiseStep: 1000 } })).toThrow(/imageNoise\.noiseStep.*\[0, 999\]/);
  });
});

describe('MultimodalModel.generate with the image-attention boost (PAI)', () => {
  it('strength 0 gives exactly the plain tokens', () => {
    const model = make();
    expect(model.generate(prompts, { maxNewTokens: 6, imageAttention: { alpha: 0 } })).toEqual(model.generate(prompts, { maxNewTokens: 6 }));
  });

  it('boosts the positions of the spliced image tokens, worked out by hand from the padded layout', () => {
    const model = make();
    // row 0: [1, <image>, 7] -> 3 + 3 = 6 ids, left-padded by 2 to row 1's 8: image tokens at 3-6; row 1: [1, 7, 7, <image>, 9]: 3-6
    const batch = collatePrompts(prompts, model.batchOptions);
    expect(batch.inputIds[0]!.length).toBe(8);
    const embeds = model.embed(batch.inputIds, batch.images, batch.slots);
    const options = { maxNewTokens: 6, imageAttention: { alpha: 1.5, fromLayer: 0 } };
    const byHand = generateFromEmbeddings(model.llm, { embeds, attentionMask: batch.attentionMask, imageKeys: [[3, 4, 5, 6], [3, 4, 5, 6]] }, options);
    embeds.dispose();
    expect(model.generate(prompts, options)).toEqual(byHand);
    expect(model.generate(prompts, { ...options, useCache: false })).toEqual(byHand);
  });

  it('refuses a connector that puts no image tokens in the sequence', () => {
    const fusion = buildModel(
      { ...config, connector: { type: 'gated-cross-attention' } },
      { registry: createComponentRegistry(), vocabSize: 12, special: { imageTokenId: IMAGE, padId: 0 }, seed: 1 },
    );
    expect(() => fusion.generate(prompts, { maxNewTokens: 2, imageAttention: { alpha: 1 } })).toThrow(/fusion connector puts none in the LLM's sequence/);
  });
});
