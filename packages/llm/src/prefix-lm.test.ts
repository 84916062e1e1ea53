import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Registry, Rng, buildAttentionMask, maskedCrossEntropy, MASKED, type LanguageModel, type LlmContext } from '@mllm/core';
import { gradientMismatches } from '@mllm/core/testing';
import { CausalLM, causalLmSchema } from './causal-lm';
import { PrefixLM, prefixLmSchema } from './prefix-lm';
import { generateFromEmbeddings } from './generate';
import { createKvCache } from './kv-cache';
import { registerLlms } from './register';

const V = 13;
const make = (seed = 1) => new PrefixLM(prefixLmSchema.parse({ type: 'prefix', dim: 16, layers: 2, heads: 4, kvHeads: 2 }), V, new Rng(seed));
const ids2d = (rows: number[][]) => tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0]!);
const at = (x: tf.Tensor3D, from: number, length: number) => x.slice([0, from, 0], [-1, length, -1]);

describe('prefix attention mask', () => {
  it('prefix keys are visible to prefix queries, everything else is causal; padding keys never', () => {
    // row 0: prefix 3 of 5; row 1: one pad, then a prefix reaching position 2
    const mask = buildAttentionMask(2, 5, { pattern: 'prefix', prefixLengths: [3, 3], keyMask: [[1, 1, 1, 1, 1], [0, 1, 1, 1, 1]] }).arraySync() as number[][][][];
    const visible = (b: number) => mask[b]![0]!.map((row) => row.map((v) => (v === MASKED ? 0 : 1)));
    expect(visible(0)).toEqual([
      [1, 1, 1, 0, 0],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 1, 0],
      [1, 1, 1, 1, 1],
    ]);
    expect(visible(1).map((row) => row[0])).toEqual([0, 0, 0, 0, 0]);
    expect(visible(1)[1]).toEqual([0, 1, 1, 0, 0]);
  });
});

describe('PrefixLM', () => {
  it('takes the causal options and refuses what the causal schema refuses', () => {
    const c = prefixLmSchema.parse({ type: 'prefix' });
    expect(c).toMatchObject({ type: 'prefix', dim: 64, layers: 2, heads: 4, ropeTheta: 10000 });
    expect(prefixLmSchema.safeParse({ type: 'prefix', dim: 18, heads: 4 }).success).toBe(false);
    expect(prefixLmSchema.safeParse({ type: 'prefix', bogus: 1 }).success).toBe(false);
    expect(prefixLmSchema.safeParse({ type: 'causal' }).success).toBe(false);
  });

  it('is registered as "prefix", asks for prefix lengths and keeps the causal parameter names', () => {
    const registry = new Registry<LlmContext, LanguageModel>('llm');
    registerLlms({ llms: registry });
    const lm = registry.build({ type: 'prefix', dim: 16, layers: 1, heads: 2 }, { rng: new Rng(1), vocabSize: V });
    expect(lm).toBeInstanceOf(PrefixLM);
    expect(lm.needsPrefix).toBe(true);
    const causal = new CausalLM(causalLmSchema.parse({ type: 'causal', dim: 16, layers: 1, heads: 2 }), V, new Rng(1));
    expect(Object.keys(lm.stateDict()).sort()).toEqual(Object.keys(causal.stateDict()).sort());
  });

  it('without prefix lengths it is the causal LM, weight for weight', () => {
    const lm = make(2);
    const causal = new CausalLM(causalLmSchema.parse({ type: 'causal', dim: 16, layers: 2, heads: 4, kvHeads: 2 }), V, new Rng(2));
    const ids = ids2d([[1, 2, 3, 4, 5]]);
    expect(maxDiff(lm.forward(lm.embed(ids)).logits, causal.forward(causal.embed(ids)).logits)).toBe(0);
  });

  it('a prefix token sees later prefix tokens; nothing sees a later token outside the prefix', () => {
    const lm = make(3);
    const run = (row: number[]) => lm.forward(lm.embed(ids2d([row])), { prefixLengths: [3] }).logits;
    const base = run([1, 2, 3, 4, 5, 6]);
    const prefixChanged = run([1, 2, 9, 4, 5, 6]); // position 2 is the prefix's last token
    expect(maxDiff(at(base, 0, 1), at(prefixChanged, 0, 1))).toBeGreaterThan(1e-4);
    const firstResponseChanged = run([1, 2, 3, 9, 5, 6]); // position 3 is the first response token: the prefix's target
    expect(maxDiff(at(base, 0, 3), at(firstResponseChanged, 0, 3))).toBeLessThan(1e-6);
    expect(maxDiff(at(base, 3, 3), at(firstResponseChanged, 3, 3))).toBeGreaterThan(1e-4);
    const lateChanged = run([1, 2, 3, 4, 9, 6]);
    expect(maxDiff(at(base, 0, 4), at(lateChanged, 0, 4))).toBeLessThan(1e-6);
  });

  it('rows of one batch are independent: per-row prefix lengths, left padding', () => {
    const lm = make(4);
    const alone = lm.forward(lm.embed(ids2d([[5, 6, 7, 8]])), { prefixLengths: [2] }).logits;
    const batch = lm.forward(lm.embed(ids2d([[1, 2, 3, 4, 5, 6], [0, 0, 5, 6, 7, 8]])), {
      prefixLengths: [5, 4], // row 1: two pads + a 2-token prefix
      attentionMask: [[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]],
    }).logits;
    expect(maxDiff(alone, batch.slice([1, 2, 0], [1, 4, -1]))).toBeLessThan(1e-5);
  });

  it('KV-cache decoding after a prefix prefill equals full recompute: tokens, and logits to 1e-4', () => {
    const lm = make(5);
    const prompts = [[0, 3, 4, 5], [2, 4, 6, 8]];
    const mask = [[0, 1, 1, 1], [1, 1, 1, 1]];
    const prefixLengths = [4, 4]; // generating: the whole prompt is the prefix
    const steps = 6;
    const cached = generateFromEmbeddings(lm, { embeds: lm.embed(ids2d(prompts)), attentionMask: mask, prefixLengths }, { maxNewTokens: steps, stopTokens: [] });
    const seqs = prompts.map((r) => [...r]);
    const masks = mask.map((r) => [...r]);
    for (let i = 0; i < steps; i++) {
      const logits = lm.forward(lm.embed(ids2d(seqs)), { attentionMask: masks, prefixLengths }).logits;
      const next = logits.slice([0, seqs[0]!.length - 1, 0], [-1, 1, -1]).argMax(-1).dataSync();
      seqs.forEach((s, r) => s.push(next[r]!));
      masks.forEach((m) => m.push(1));
    }
    expect(cached).toEqual(seqs.map((s) => s.slice(4)));
    // logits of every decoded position: the cache's step by step against one full forward
    const full = lm.forward(lm.embed(ids2d(seqs)), { attentionMask: masks, prefixLengths }).logits;
    const cache = createKvCache();
    const stepLogits = [at(lm.forward(lm.embed(ids2d(prompts)), { attentionMask: mask, prefixLengths, cache }).logits, 3, 1)];
    for (let i = 0; i < steps - 1; i++) stepLogits.push(lm.forward(lm.embed(ids2d(seqs.map((s) => [s[4 + i]!]))), { attentionMask: [[1], [1]], prefixLengths, cache }).logits);
    expect(maxDiff(tf.concat(stepLogits, 1), at(full, 3, steps))).toBeLessThan(1e-4);
    // the prefix mask matters here: a causal prefill would give other logits
    const causalPrefill = lm.forward(lm.embed(ids2d(prompts)), { attentionMask: mask }).logits;
    expect(maxDiff(at(causalPrefill, 3, 1), stepLogits[0]!)).toBeGreaterThan(1e-4);
  });

  it('its loss passes a finite-difference gradient check, through a prefix', () => {
    const lm = new PrefixLM(prefixLmSchema.parse({ type: 'prefix', dim: 8, layers: 1, heads: 2 }), 7, new Rng(6));
    const ids = ids2d([[1, 2, 3, 4, 5, 6]]);
    const loss = (embeds: tf.Tensor) =>
      maskedCrossEntropy(
        lm.forward(embeds.slice([0, 0, 0], [1, 5, -1]) as tf.Tensor3D, { prefixLengths: [3] }).logits.reshape([5, 7]) as tf.Tensor2D,
        ids.slice([0, 1], [1, 5]).reshape([5]) as tf.Tensor1D,
        tf.tensor1d([0, 0, 1, 1, 1]),
      );
    const embeds = lm.embed(ids);
    const params = lm.trainableParameters().filter(([n]) => /self_attn\.(q|k|v)_proj|mlp\.up_proj|lm_head/.test(n));
    expect(gradientMismatches(loss, params, [['embeds', embeds]], { samples: 6 })).toEqual([]);
  });
});

describe('PrefixLM with an MoE feed-forward', () => {
  it('takes the causal ffn option and returns the auxiliary loss', () => {
    const lm = new PrefixLM(prefixLmSchema.parse({ type: 'prefix', dim: 16, layers: 1, heads: 2, ffn: { type: 'moe', experts: 4, topK: 2 } }), V, new Rng(7));
    expect(Object.keys(lm.stateDict())).toContain('model.layers.0.block_sparse_moe.gate.weight');
    const out = lm.forward(lm.embed(ids2d([[1, 2, 3, 4]])), { prefixLengths: [2] });
    expect(out.aux).toBeDefined();
  });
});
