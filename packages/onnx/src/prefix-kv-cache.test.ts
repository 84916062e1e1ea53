import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { collatePrompts } from '@mllm/model';
import { createKvCache, disposeKvCache } from '@mllm/llm';
import * as ort from './ort-loader';
import { PrefixKvCache } from './prefix-kv-cache';
import { exportModel } from './export-model';
import { OnnxMultimodalModel } from './runtime';
import { IMAGE, tempDir, testImage, tinyModel } from './test-model.test-helper';

const NAMES = ['past_key_values.0.key', 'past_key_values.0.value'];

/** A step's values [B, T, Hkv dh] numbered so each element says where it came from: 1000 b + 100 t + 10 h + d (+ 5 for values). */
function step(b: number, t: number, hkv: number, dh: number, call: number): Record<string, ort.Tensor> {
  const make = (offset: number) =>
    new ort.Tensor('float32', Float32Array.from({ length: b * t * hkv * dh }, (_, i) => {
      const d = i % dh;
      const h = Math.floor(i / dh) % hkv;
      const p = Math.floor(i / (dh * hkv)) % t;
      const r = Math.floor(i / (dh * hkv * t));
      return 10000 * call + 1000 * r + 100 * p + 10 * h + d + offset;
    }), [b, t, hkv * dh]);
  return { [NAMES[0]!]: make(0), [NAMES[1]!]: make(5) };
}

describe('PrefixKvCache', () => {
  it("writes each call's keys behind each row's own length, only the row's real positions, in [B, Hkv, C, dh]", () => {
    const [b, hkv, dh, capacity] = [2, 2, 2, 6];
    const cache = new PrefixKvCache(NAMES, { batch: b, kvHeads: hkv, headDim: dh, capacity });
    cache.append(step(b, 3, hkv, dh, 1), [3, 1]); // row 1: 1 token, then 2 padding positions (the graph puts padding last)
    cache.append(step(b, 1, hkv, dh, 2), [1, 1]);
    expect(cache.rowLengths).toEqual([4, 2]);
    const feeds = cache.feeds();
    expect(feeds[NAMES[0]!]!.dims).toEqual([b, hkv, capacity, dh]);
    // element by element: where (row, head, position) should have come from
    const want = new Float32Array(b * hkv * capacity * dh);
    const rows = [
      [[1, 0], [1, 1], [1, 2], [2, 0]],
      [[1, 0], [2, 0]],
    ]; // [call, position in that call] for each cached position of each row
    rows.forEach((positions, r) =>
      positions.forEach(([call, p], at) => {
        for (let h = 0; h < hkv; h++) for (let d = 0; d < dh; d++) want[((r * hkv + h) * capacity + at) * dh + d] = 10000 * call! + 1000 * r + 100 * p! + 10 * h + d;
      }),
    );
    expect(Array.from(feeds[NAMES[0]!]!.data as Float32Array)).toEqual(Array.from(want));
    expect(Array.from(feeds[NAMES[1]!]!.data as Float32Array).filter((_, i) => want[i] !== 0)).toEqual(Array.from(want.filter((v) => v !== 0), (v) => v + 5));
  });

  it('refuses a call past its capacity and new values of the wrong shape, naming them', () => {
    const cache = new PrefixKvCache(NAMES, { batch: 1, kvHeads: 1, headDim: 2, capacity: 2 });
    cache.append(step(1, 2, 1, 2, 1), [2]);
    expect(() => cache.append(step(1, 1, 1, 2, 2), [1])).toThrow('the KV cache holds 2 positions per row; row 0 would need 3');
    const wide = new PrefixKvCache(NAMES, { batch: 1, kvHeads: 2, headDim: 2, capacity: 4 });
    expect(() => wide.append(step(1, 1, 1, 2, 1), [1])).toThrow('the decoder\'s new values for past_key_values.0.key are [1, 1, 2], expected [1, 1, 4]');
  });
});

describe('a decoder on contrib ops (head width 16)', () => {
  let dir: string;
  let runtime: OnnxMultimodalModel;
  beforeAll(async () => {
    const model = tinyModel({ llm: { type: 'causal', dim: 32, layers: 2, heads: 2, kvHeads: 1 } });
    dir = tempDir('mllm-onnx-contrib-');
    await exportModel(model, dir, { maxPositions: 64 });
    model.dispose();
    runtime = await OnnxMultimodalModel.load(dir, { threads: 1 });
  });
  afterAll(() => runtime.release());

  it('is 14 nodes a layer on GroupQueryAttention, RotaryEmbedding and SkipSimplifiedLayerNormalization, and says its cache rows are prefixes', () => {
    const graph = onnxProto.onnx.ModelProto.decode(readFileSync(`${dir}/onnx/decoder_model_merged.onnx`));
    expect(graph.opsetImport.map((o) => o.domain)).toContain('com.microsoft');
    const count = (op: string) => graph.graph!.node!.filter((n) => n.opType === op).length;
    expect(count('GroupQueryAttention')).toBe(2);
    expect(count('RotaryEmbedding')).toBe(4);
    // the first input norm has no residual: the standard RMSNorm pattern, which onnxruntime fuses
    expect(count('SkipSimplifiedLayerNormalization')).toBe(2 * 2);
    // the new keys and values are written under their output names: no Identity copies them
    expect(count('Concat') + count('Transpose') + count('Softmax') + count('Identity')).toBe(0);
    // per layer: qkv MatMul, Split, 2 RotaryEmbedding, GQA, o MatMul, 2 SkipSimplifiedLayerNormalization, gate_up MatMul, Split, Sigmoid, Mul, Mul, down MatMul
    // less the LM head's MatMul and the first norm's Mul
    const perLayer = ['MatMul', 'Split', 'RotaryEmbedding', 'GroupQueryAttention', 'SkipSimplifiedLayerNormalization', 'Sigmoid', 'Mul'].reduce((sum, op) => sum + count(op), 0) - 2;
    expect(perLayer / 2).toBe(14);
    expect(JSON.parse(readFileSync(`${dir}/mllm.json`, 'utf8')).llm.cache).toBe('prefix');
  });

  it('refuses padding among positions that follow a cache, with what to do', async () => {
    const prompts = [{ ids: [1, IMAGE, 9], images: [testImage(1)] }];
    const { embeds, attentionMask } = await runtime.embedPrompts(prompts);
    const first = await runtime.decode(embeds, attentionMask);
    const next = await runtime.embed([[5, 6]]);
    await expect(runtime.decode(next, [[...attentionMask[0]!, 0, 1]], first.past)).rejects.toThrow(
      "attention_mask row 0: this decoder (GroupQueryAttention, mllm.json llm.cache 'prefix') takes padding only in its first call, but 1 of this call's 2 positions are padding after 6 cached ones; start a new cache for a new prompt",
    );
    await expect(runtime.decode(next, [[...attentionMask[0]!, 1, 0]], first.past)).rejects.toThrow('attention_mask row 0: padding must come before a row\'s tokens (left-padded), got [1, 0]');
    await expect(runtime.decode(next, [[0, 0]])).rejects.toThrow('attention_mask row 0: the row has no tokens; every prompt needs at least one');
  });
});

describe('a contrib-op decoder after a cache', () => {
  it("takes a chunk of several tokens (a conversation's next turn): logits within 1e-4 of tfjs", async () => {
    const model = tinyModel({ llm: { type: 'causal', dim: 32, layers: 2, heads: 2, kvHeads: 1 } });
    const dir = tempDir('mllm-onnx-chunk-');
    await exportModel(model, dir, { maxPositions: 64 });
    const ort = await OnnxMultimodalModel.load(dir, { threads: 1 });
    const prompts = [{ ids: [1, IMAGE, 9, 10], images: [testImage(1)] }];
    const batch = collatePrompts(prompts.map((p) => ({ ...p, lossMask: p.ids.map(() => 0) })), model.batchOptions);
    const { embeds, attentionMask } = await ort.embedPrompts(prompts);
    const cache = createKvCache();
    const tfEmbeds = model.embed(batch.inputIds, batch.images, batch.slots);
    model.llm.forward(tfEmbeds, { attentionMask: batch.attentionMask, cache }).logits.dispose();
    const first = await ort.decode(embeds, attentionMask);
    const ids = tf.tensor2d([[5, 6, 7]], [1, 3], 'int32');
    const chunk = model.llm.embed(ids);
    const want = model.llm.forward(chunk, { attentionMask: [[1, 1, 1]], cache }).logits;
    const got = await ort.decode(await ort.embed([[5, 6, 7]]), [[...attentionMask[0]!, 1, 1, 1]], first.past);
    expect(got.logits.dims).toEqual(want.shape);
    const w = want.dataSync();
    expect(Math.max(...Array.from(got.logits.data as Float32Array, (v, i) => Math.abs(v - w[i]!)))).toBeLessThan(1e-4);
    [tfEmbeds, ids, chunk, want].forEach((t) => t.dispose());
    disposeKvCache(cache);
    await ort.release();
    model.dispose();
  });
});
