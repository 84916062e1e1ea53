import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Registry, Rng, buildAttentionMask, maskedCrossEntropy, type KvCache, type LanguageModel, type LlmContext } from '@mllm/core';
import { gradientMismatches } from '@mllm/core/testing';
import { EncoderDecoderLM, encoderDecoderLmSchema } from './encoder-decoder-lm';
import { CrossAttention } from './decoder-block';
import { splitAtPrefix } from './prefix-split';
import { generateFromEmbeddings } from './generate';
import { createKvCache, disposeKvCache } from './kv-cache';
import { registerLlms } from './register';

const V = 13;
const make = (seed = 1, extra: Record<string, unknown> = {}) =>
  new EncoderDecoderLM(encoderDecoderLmSchema.parse({ type: 'encoder-decoder', dim: 16, layers: 2, heads: 4, kvHeads: 2, ...extra }), V, new Rng(seed));
const ids2d = (rows: number[][]) => tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0]!);
const at = (x: tf.Tensor3D, from: number, length: number) => x.slice([0, from, 0], [-1, length, -1]);

describe('splitAtPrefix', () => {
  it('right-padded training rows: encoder [0, p), decoder from p - 1, one shared offset', () => {
    const s = splitAtPrefix([[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]], [3, 2]);
    expect(s).toEqual({
      prefixLengths: [3, 2],
      encoderLength: 3,
      encoderMask: [[1, 1, 1], [1, 1, 0]],
      decoderOffset: 1,
      decoderMask: [[0, 1, 1, 1, 0], [1, 1, 1, 1, 1]],
    });
  });

  it('left-padded prompts, and the minimal prefix (first real token) when none is given or it is too short', () => {
    const s = splitAtPrefix([[0, 0, 1, 1], [1, 1, 1, 1]]);
    expect(s.prefixLengths).toEqual([3, 1]);
    expect(s.encoderMask).toEqual([[0, 0, 1], [1, 0, 0]]);
    expect(s.decoderOffset).toBe(0);
    expect(s.decoderMask).toEqual([[0, 0, 1, 1], [1, 1, 1, 1]]);
    expect(splitAtPrefix([[1, 1]], [9]).prefixLengths).toEqual([2]);
  });

  it('refuses a prefix length per row that is missing or not a count', () => {
    expect(() => splitAtPrefix([[1, 1], [1, 1]], [1])).toThrow(/one prefix length per row/);
    expect(() => splitAtPrefix([[1, 1]], [1.5])).toThrow(/whole number/);
  });
});

describe('CrossAttention', () => {
  it('equals a per-head float64 computation: softmax over the unmasked encoder keys, grouped key/value heads', () => {
    const attn = new CrossAttention(4, 2, 1, new Rng(5));
    const x = tf.randomNormal([1, 2, 4], 0, 1, 'float32', 3) as tf.Tensor3D;
    const enc = tf.randomNormal([1, 3, 4], 0, 1, 'float32', 4) as tf.Tensor3D;
    const mask = buildAttentionMask(1, 3, { pattern: 'bidirectional', keyMask: [[1, 0, 1]], queryLength: 2 });
    const got = (attn.forward(x, attn.project(enc), mask).arraySync() as number[][][])[0]!;
    const proj = (input: tf.Tensor3D, w: tf.Tensor2D, n: number) => tf.matMul(input.reshape([n, 4]), w, false, true).arraySync() as number[][];
    const q = proj(x, attn.q.weight as tf.Tensor2D, 2);
    const k = proj(enc, attn.k.weight as tf.Tensor2D, 3);
    const v = proj(enc, attn.v.weight as tf.Tensor2D, 3);
    const keys = [0, 2]; // key 1 is padding
    const merged = [0, 1].map((t) =>
      [0, 1].flatMap((h) => {
        const qt = q[t]!.slice(2 * h, 2 * h + 2);
        const s = keys.map((j) => (qt[0]! * k[j]![0]! + qt[1]! * k[j]![1]!) / Math.SQRT2); // one kv head shared by both
        const e = s.map((z) => Math.exp(z - Math.max(...s)));
        const sum = e.reduce((a, b) => a + b);
        return [0, 1].map((c) => keys.reduce((acc, j, n) => acc + (e[n]! / sum) * v[j]![c]!, 0));
      }),
    );
    const want = tf.matMul(tf.tensor2d(merged), attn.o.weight, false, true).arraySync() as number[][];
    want.forEach((row, t) => row.forEach((val, c) => expect(got[t]![c]).toBeCloseTo(val, 5)));
  });

  it('passes a finite-difference gradient check on all four projections and both inputs', () => {
    const attn = new CrossAttention(8, 2, undefined, new Rng(5));
    for (const [, p] of attn.trainableParameters()) p.assign(p.mul(4)); // scores far from uniform, so q/k matter
    const x = tf.randomNormal([1, 3, 8], 0, 1, 'float32', 3) as tf.Tensor3D;
    const enc = tf.randomNormal([1, 4, 8], 0, 1, 'float32', 4) as tf.Tensor3D;
    const mask = buildAttentionMask(1, 4, { pattern: 'bidirectional', keyMask: [[1, 0, 1, 1]], queryLength: 3 });
    const w = tf.randomNormal([1, 3, 8], 0, 1, 'float32', 9);
    const f = (xs: tf.Tensor, es: tf.Tensor) => attn.forward(xs as tf.Tensor3D, attn.project(es as tf.Tensor3D), mask).mul(w).sum() as tf.Scalar;
    expect(gradientMismatches(f, attn.trainableParameters(), [['x', x], ['encoded', enc]], { samples: 10 })).toEqual([]);
  });
});

describe('EncoderDecoderLM', () => {
  it('is registered as "encoder-decoder", asks for prefix lengths, honours no fusion point, names both stacks', () => {
    const registry = new Registry<LlmContext, LanguageModel>('llm');
    registerLlms({ llms: registry });
    const lm = registry.build({ type: 'encoder-decoder', dim: 16, layers: 2, encoderLayers: 1, heads: 2 }, { rng: new Rng(1), vocabSize: V });
    expect(lm).toBeInstanceOf(EncoderDecoderLM);
    expect(lm.needsPrefix).toBe(true);
    expect(lm.fusionPoints).toEqual([]);
    expect(lm.numLayers).toBe(2);
    const names = Object.keys(lm.stateDict());
    for (const n of [
      'model.embed_tokens.weight',
      'model.encoder.layers.0.self_attn.q_proj.weight',
      'model.encoder.layers.0.mlp.gate_proj.weight',
      'model.encoder.norm.weight',
      'model.decoder.layers.1.self_attn.o_proj.weight',
      'model.decoder.layers.1.encoder_attn_layernorm.weight',
      'model.decoder.layers.1.encoder_attn.k_proj.weight',
      'model.decoder.layers.1.post_attention_layernorm.weight',
      'model.decoder.norm.weight',
      'lm_head.weight',
    ])
      expect(names).toContain(n);
    expect(names.some((n) => n.startsWith('model.encoder.layers.1.'))).toBe(false);
    expect(() => registry.build({ type: 'encoder-decoder', encoderLayers: 0 }, { rng: new Rng(1), vocabSize: V })).toThrow(/encoderLayers/);
  });

  it('decoder position t ignores decoder tokens after t and reads every encoder token; prefix positions are zeros', () => {
    const lm = make(3);
    const run = (row: number[]) => lm.forward(lm.embed(ids2d([row])), { prefixLengths: [3] }).logits; // encoder 0..2, decoder 2..6
    const base = run([1, 2, 3, 4, 5, 6, 7]);
    expect(base.shape).toEqual([1, 7, V]);
    expect(maxDiff(at(base, 0, 2), tf.zeros([1, 2, V]))).toBe(0);
    const late = run([1, 2, 3, 4, 5, 9, 7]);
    expect(maxDiff(at(base, 2, 3), at(late, 2, 3))).toBeLessThan(1e-6);
    expect(maxDiff(at(base, 5, 2), at(late, 5, 2))).toBeGreaterThan(1e-4);
    for (const k of [0, 1]) {
      const row = [1, 2, 3, 4, 5, 6, 7];
      row[k] = 11;
      const changed = run(row);
      // an encoder-only token reaches every decoder position, the first one included
      for (let t = 2; t < 7; t++) expect(maxDiff(at(base, t, 1), at(changed, t, 1))).toBeGreaterThan(1e-5);
    }
  });

  it('rows of one batch are independent: per-row prefix lengths, left and right padding', () => {
    const lm = make(4);
    const alone = lm.forward(lm.embed(ids2d([[5, 6, 7, 8, 9]])), { prefixLengths: [2] }).logits;
    const batch = lm.forward(lm.embed(ids2d([[0, 0, 5, 6, 7, 8, 9], [1, 2, 3, 4, 5, 0, 0]])), {
      prefixLengths: [4, 3],
      attentionMask: [[0, 0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0]],
    }).logits;
    // row 0's decoder starts at position 3 (its prefix's last token)
    expect(maxDiff(at(alone, 1, 4), batch.slice([0, 3, 0], [1, 4, -1]))).toBeLessThan(1e-5);
    const row1 = lm.forward(lm.embed(ids2d([[1, 2, 3, 4, 5]])), { prefixLengths: [3] }).logits;
    expect(maxDiff(at(row1, 2, 3), batch.slice([1, 2, 0], [1, 3, -1]))).toBeLessThan(1e-5);
  });

  it('KV-cache decoding equals full recompute: greedy tokens, and logits to 1e-4', () => {
    const lm = make(5);
    const prompts = [[0, 3, 4, 5], [2, 4, 6, 8]];
    const mask = [[0, 1, 1, 1], [1, 1, 1, 1]];
    const prefixLengths = [4, 4];
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
    const full = lm.forward(lm.embed(ids2d(seqs)), { attentionMask: masks, prefixLengths }).logits;
    const before = tf.memory().numTensors;
    const cache: KvCache = createKvCache();
    const stepLogits = tf.tidy(() => {
      const logits = [at(lm.forward(lm.embed(ids2d(prompts)), { attentionMask: mask, prefixLengths, cache }).logits, 3, 1)];
      for (let i = 0; i < steps - 1; i++) logits.push(lm.forward(lm.embed(ids2d(seqs.map((s) => [s[4 + i]!]))), { attentionMask: [[1], [1]], prefixLengths, cache }).logits);
      return tf.concat(logits, 1);
    });
    expect(cache.encoder?.layers).toHaveLength(2);
    expect(tf.tidy(() => maxDiff(stepLogits, at(full, 3, steps)))).toBeLessThan(1e-4);
    stepLogits.dispose();
    disposeKvCache(cache);
    expect(cache.encoder).toBeUndefined();
    expect(tf.memory().numTensors).toBe(before); // the cache's encoder keys/values are freed with it
  });

  it('refuses fusion hooks, and a decoding step whose batch differs from the cached one', () => {
    const lm = make(6);
    const embeds = lm.embed(ids2d([[1, 2, 3]]));
    expect(() => lm.forward(embeds, { fusion: { dispose: () => undefined } })).toThrow(/no fusion plug points/);
    const cache = createKvCache();
    lm.forward(embeds, { prefixLengths: [3], cache });
    expect(() => lm.forward(lm.embed(ids2d([[1], [2]])), { attentionMask: [[1], [1]], cache })).toThrow(/cache holds 1 rows/);
    disposeKvCache(cache);
  });

  it('its loss passes a finite-difference gradient check, encoder and decoder, embeddings included', () => {
    const lm = new EncoderDecoderLM(encoderDecoderLmSchema.parse({ type: 'encoder-decoder', dim: 8, layers: 1, heads: 2 }), 7, new Rng(7));
    const ids = ids2d([[1, 2, 3, 4, 5, 6]]);
    const loss = (embeds: tf.Tensor) =>
      maskedCrossEntropy(
        lm.forward(embeds.slice([0, 0, 0], [1, 5, -1]) as tf.Tensor3D, { prefixLengths: [3] }).logits.reshape([5, 7]) as tf.Tensor2D,
        ids.slice([0, 1], [1, 5]).reshape([5]) as tf.Tensor1D,
        tf.tensor1d([0, 0, 1, 1, 1]),
      );
    // cross-attention q/k are checked on their own below: at init their gradients (~1e-5) are float32 noise here
    const params = lm.trainableParameters().filter(([n]) => /encoder\.layers\.0\.(self_attn\.(q|v)_proj|mlp\.down_proj)|encoder_attn\.(v|o)_proj|decoder\.layers\.0\.(self_attn\.k_proj|mlp\.up_proj)|lm_head/.test(n));
    expect(params.length).toBe(8);
    expect(gradientMismatches(loss, params, [['embeds', lm.embed(ids)]], { samples: 6 })).toEqual([]);
  });

  it('training steps lower the loss on fixed prompt/response pairs', () => {
    const lm = make(8);
    const ids = ids2d([[1, 2, 3, 4, 5, 6, 7, 8], [2, 3, 1, 9, 8, 7, 6, 5]]);
    const weights = tf.tensor1d([0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
    const opt = tf.train.adam(0.01);
    const loss = () =>
      maskedCrossEntropy(
        lm.forward(lm.embed(ids.slice([0, 0], [2, 7]) as tf.Tensor2D), { prefixLengths: [3, 3] }).logits.reshape([14, V]) as tf.Tensor2D,
        ids.slice([0, 1], [2, 7]).reshape([14]) as tf.Tensor1D,
        weights as tf.Tensor1D,
      );
    const first = loss().dataSync()[0]!;
    for (let i = 0; i < 30; i++) opt.minimize(loss);
    expect(loss().dataSync()[0]!).toBeLessThan(first * 0.5);
  });
});

describe('EncoderDecoderLM with an MoE feed-forward', () => {
  it('puts Mixtral experts in both stacks and returns their auxiliary loss from every layer', () => {
    const lm = make(9, { layers: 1, ffn: { type: 'moe', experts: 4, topK: 2 } });
    const names = Object.keys(lm.stateDict());
    expect(names).toContain('model.encoder.layers.0.block_sparse_moe.experts.3.w1.weight');
    expect(names).toContain('model.decoder.layers.0.block_sparse_moe.gate.weight');
    expect(names.some((n) => n.includes('.mlp.'))).toBe(false);
    const out = lm.forward(lm.embed(ids2d([[1, 2, 3, 4, 5]])), { prefixLengths: [3] });
    expect(out.aux).toBeDefined();
    expect(out.aux!.loss.shape).toEqual([]);
    expect(Number.isFinite(out.aux!.loss.dataSync()[0]!)).toBe(true);
    expect(make(9).forward(lm.embed(ids2d([[1, 2, 3]]))).aux).toBeUndefined();
  });
});
