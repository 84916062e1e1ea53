import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, Rng } from '@mllm/core';
import { CausalLM, causalLmSchema } from './causal-lm';
import { EncoderDecoderLM, encoderDecoderLmSchema } from './encoder-decoder-lm';
import { generateFromEmbeddings, type GenerationPrompt } from './generate';
import { imageBoostMask } from './image-attention-boost';

const VOCAB = 40;
const lm = new CausalLM(causalLmSchema.parse({ type: 'causal', dim: 16, layers: 3, heads: 4, kvHeads: 2 }), VOCAB, new Rng(8));
const ids = [
  [0, 0, 5, 9, 12, 3],
  [7, 3, 3, 20, 31, 2],
];
const mask = [
  [0, 0, 1, 1, 1, 1],
  [1, 1, 1, 1, 1, 1],
];
/** Positions 2-3 (row 0) and 1-3 (row 1) stand for the image's tokens. */
const imageKeys = [
  [2, 3],
  [1, 2, 3],
];
const prompt = (): GenerationPrompt => ({ embeds: lm.embed(tf.tensor2d(ids, [2, 6], 'int32')), attentionMask: mask, inputIds: ids, imageKeys });

describe('image-attention boost (PAI)', () => {
  it('marks only the last query row at the image keys', () => {
    const m = imageBoostMask(2, 2, 5, { imageKeys: [[0, 3], [4]], alpha: 1, fromLayer: 0 }).arraySync();
    expect(m).toEqual([[[[0, 0, 0, 0, 0], [1, 0, 0, 1, 0]]], [[[0, 0, 0, 0, 0], [0, 0, 0, 0, 1]]]]);
    expect(() => imageBoostMask(1, 1, 3, { imageKeys: [[3]], alpha: 1, fromLayer: 0 })).toThrow(/outside the 3 keys/);
    // a recomputed sequence of 4 whose prompt ended at position 1: queries 1, 2 and 3 were each new once
    const recomputed = imageBoostMask(1, 4, 4, { imageKeys: [[0]], alpha: 1, fromLayer: 0, queriesFrom: 1 }).arraySync()[0]![0]!;
    expect(recomputed.map((row) => row[0])).toEqual([0, 1, 1, 1]);
    // a cached step (1 query, 2 past keys): it is past queriesFrom, so it is boosted
    expect(imageBoostMask(1, 1, 3, { imageKeys: [[0]], alpha: 1, fromLayer: 0, queriesFrom: 1 }).arraySync()).toEqual([[[[1, 0, 0]]]]);
  });

  it('alpha 0 is plain decoding exactly; alpha > 0 changes the last position\'s logits only', () => {
    const p = prompt();
    const plain = generateFromEmbeddings(lm, p, { maxNewTokens: 6 });
    expect(generateFromEmbeddings(lm, p, { maxNewTokens: 6, imageAttention: { alpha: 0 } })).toEqual(plain);
    const options = { attentionMask: mask, imageAttention: { imageKeys, alpha: 2, fromLayer: 1 } };
    const [a, b] = [lm.forward(p.embeds, { attentionMask: mask }).logits, lm.forward(p.embeds, options).logits];
    const diff = (row: number, from: number, to: number) => tf.max(tf.abs(a.slice([row, from, 0], [1, to - from, VOCAB]).sub(b.slice([row, from, 0], [1, to - from, VOCAB])))).dataSync()[0]!;
    // the real positions before the last are untouched (row 0's padding queries attend everywhere, so they are not compared)
    expect(diff(0, 2, 5)).toBe(0);
    expect(diff(1, 0, 5)).toBe(0);
    expect(diff(0, 5, 6)).toBeGreaterThan(1e-4);
    expect(diff(1, 5, 6)).toBeGreaterThan(1e-4);
    p.embeds.dispose();
  });

  it('decodes the same tokens with the KV cache as by recomputing the whole sequence, and differs from plain', () => {
    const p = prompt();
    const options = { maxNewTokens: 8, imageAttention: { alpha: 3, fromLayer: 0 } };
    const cached = generateFromEmbeddings(lm, p, options);
    expect(generateFromEmbeddings(lm, p, { ...options, useCache: false })).toEqual(cached);
    expect(cached).not.toEqual(generateFromEmbeddings(lm, p, { maxNewTokens: 8 }));
    p.embeds.dispose();
  });

  it('says what is missing: image positions, a layer that exists, an LLM that takes the boost', () => {
    const p = prompt();
    const noKeys = { embeds: p.embeds, attentionMask: mask };
    expect(() => generateFromEmbeddings(lm, noKeys, { maxNewTokens: 2, imageAttention: { alpha: 1 } })).toThrow(/prompt\.imageKeys/);
    expect(() => generateFromEmbeddings(lm, p, { maxNewTokens: 2, imageAttention: { alpha: 1, fromLayer: 3 } })).toThrow(/fromLayer 3 boosts nothing: the LLM has 3 layers/);
    expect(() => generateFromEmbeddings(lm, p, { maxNewTokens: 2, imageAttention: { alpha: -1 } })).toThrow(ConfigError);
    const ed = new EncoderDecoderLM(encoderDecoderLmSchema.parse({ type: 'encoder-decoder', dim: 16, layers: 1, heads: 4 }), VOCAB, new Rng(1));
    const edPrompt = { embeds: ed.embed(tf.tensor2d(ids, [2, 6], 'int32')), attentionMask: mask, imageKeys, prefixLengths: [6, 6] };
    expect(() => generateFromEmbeddings(ed, edPrompt, { maxNewTokens: 2, imageAttention: { alpha: 1 } })).toThrow(/does not take an image-attention boost/);
    edPrompt.embeds.dispose();
    p.embeds.dispose();
  });
});
