import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { resolveGenerateOptions, type GenerationEvent } from '@mllm/llm';
import { TokenPicker } from '@mllm/llm/decoding';
import { buildModel, collatePrompts, createComponentRegistry } from './index';
import { decodeByRecompute } from './greedy-recompute.test-helper';

const IMAGE = 4;
const PAD = 0;
const VOCAB = 24;
const model = buildModel(
  {
    encoder: { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 1, heads: 2 },
    connector: { type: 'mlp' },
    llm: { type: 'causal', dim: 16, layers: 2, heads: 2 },
  },
  { registry: createComponentRegistry(), vocabSize: VOCAB, special: { imageTokenId: IMAGE, padId: PAD }, seed: 2 },
);
const img = (v: number) => new Float32Array(8 * 8 * 3).fill(v);
// rows of different lengths: the shorter one is left-padded
const prompts = [
  { ids: [1, IMAGE, 7], lossMask: [0, 0, 0], images: [img(0.1)] },
  { ids: [1, 7, 9, IMAGE, 7], lossMask: [0, 0, 0, 0, 0], images: [img(0.8)] },
];
const sampling = { maxNewTokens: 8, temperature: 1.4, topK: 12, topP: 0.95, repetitionPenalty: 1.5, seed: 4 };

describe('MultimodalModel generation', () => {
  it('sampled KV-cache decoding equals sampling by full recompute with the same seed', () => {
    const cached = model.generate(prompts, sampling);
    const collated = collatePrompts(prompts, model.batchOptions); // the ids generate penalises
    const picker = new TokenPicker(resolveGenerateOptions(sampling), 2, collated.inputIds, collated.attentionMask);
    expect(cached).toEqual(decodeByRecompute(model, prompts, 8, (logits) => picker.pick(logits)));
    expect(cached).not.toEqual(model.generate(prompts, { maxNewTokens: 8 })); // not greedy in disguise
  });

  it('generateStream yields the tokens of generate, with text, and leaks no tensors', async () => {
    const decode = (ids: number[]) => ids.map((id) => `t${id}`).join(' ');
    const batch = model.generate(prompts, sampling);
    const before = tf.memory().numTensors;
    const events: GenerationEvent[] = [];
    for await (const e of model.generateStream(prompts, { ...sampling, decode })) events.push(e);
    expect(tf.memory().numTensors).toBe(before);
    for (const row of [0, 1]) {
      const tokens = events.flatMap((e) => (e.row === row && e.type === 'token' ? [e.token] : []));
      expect(tokens).toEqual(batch[row]);
      expect(events.filter((e) => e.row === row).map((e) => e.text).join('')).toBe(decode(batch[row]!));
    }
    expect(() => model.generateStream(prompts, { maxNewTokens: 2, topP: 2 })).toThrow(/topP: must be in \(0, 1\]/);
  });
});
