import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import * as ort from 'onnxruntime-node';
import { exportModel } from './export-model';
import { readGraphSignature } from './graph-signature';
import { HostKvCache } from './kv-cache';
import { OnnxMultimodalModel } from './runtime';
import { IMAGE, tempDir, testImage, tinyModel } from './test-model.test-helper';

/** [B, H, P, dh] ++ [B, H, T, dh] along positions, written out index by index. */
function concatPositions(a: Float32Array, b: Float32Array, [batch, heads, p, t, dh]: number[]): Float32Array {
  const out = new Float32Array(batch * heads * (p! + t!) * dh!);
  for (let n = 0; n < batch! * heads!; n++)
    for (let s = 0; s < p! + t!; s++)
      for (let k = 0; k < dh!; k++) out[(n * (p! + t!) + s) * dh! + k] = s < p! ? a[(n * p! + s) * dh! + k]! : b[(n * t! + s - p!) * dh! + k]!;
  return out;
}

describe('HostKvCache', () => {
  it('feeds what concatenating every call along the positions gives, through growth past its reserve', () => {
    const [batch, heads, dh] = [2, 3, 4];
    const names = ['past_key_values.0.key', 'past_key_values.0.value'];
    const cache = new HostKvCache(names, { batch, kvHeads: heads, headDim: dh, reserve: 7 });
    const want: Record<string, Float32Array> = Object.fromEntries(names.map((n) => [n, new Float32Array(0)]));
    let seed = 1;
    // a prompt of 5, then steps of 1 and 2 positions: the reserve (7) is outgrown twice
    for (const t of [5, 1, 1, 2, 1, 3, 1]) {
      const p = cache.positions;
      const steps = Object.fromEntries(
        names.map((n) => [n, new ort.Tensor('float32', Float32Array.from({ length: batch * heads * t * dh }, () => (seed = (seed * 48271) % 2147483647) / 2147483647), [batch, heads, t, dh])]),
      );
      for (const n of names) want[n] = concatPositions(want[n]!, steps[n]!.data as Float32Array, [batch, heads, p, t, dh]);
      cache.append(steps);
      expect(cache.positions).toBe(p + t);
      const feeds = cache.feeds();
      for (const n of names) {
        expect(feeds[n]!.dims).toEqual([batch, heads, p + t, dh]);
        expect(Array.from(feeds[n]!.data as Float32Array)).toEqual(Array.from(want[n]!));
      }
    }
  });

  it('refuses new values of the wrong shape, naming the input', () => {
    const cache = new HostKvCache(['past_key_values.0.key'], { batch: 1, kvHeads: 2, headDim: 4 });
    expect(() => cache.append({ 'past_key_values.0.key': new ort.Tensor('float32', new Float32Array(12), [1, 3, 1, 4]) })).toThrow(/past_key_values\.0\.key are \[1, 3, 1, 4\], expected \[1, 2, 1, 4\]/);
  });
});

describe('decoding on the host-side cache', () => {
  let runtime: OnnxMultimodalModel;
  let file: string;
  const prompts = [
    { ids: [1, IMAGE, 9, 10, 11], images: [testImage(1)] },
    { ids: [1, 12, 13, IMAGE, 14, 15, 16, 17], images: [testImage(2)] },
  ];

  beforeAll(async () => {
    const model = tinyModel();
    const dir = tempDir('mllm-onnx-kv-');
    await exportModel(model, dir);
    model.dispose();
    file = `${dir}/onnx/decoder_model_merged.onnx`;
    runtime = await OnnxMultimodalModel.load(dir, { threads: 1 });
  });
  afterAll(async () => {
    await runtime.release();
  });

  it('the decoder lists logits, then each layer new_key_values, then present.* (what the runtime fetches comes first)', async () => {
    const { outputs } = await readGraphSignature(file, file);
    expect(outputs.map((o) => o.name)).toEqual([
      'logits',
      ...[0, 1].flatMap((i) => [`new_key_values.${i}.key`, `new_key_values.${i}.value`]),
      ...[0, 1].flatMap((i) => [`present.${i}.key`, `present.${i}.value`]),
    ]);
    expect(outputs[1]!.dims).toEqual(['batch_size', 2, 'sequence_length', 4]);
  });

  it('generate runs on the host-side cache and picks, for left-padded rows, the ids a loop over present.* picks', async () => {
    const steps = 6;
    const append = vi.spyOn(HostKvCache.prototype, 'append');
    const got = await runtime.generate(prompts, { maxNewTokens: steps, stopTokens: [] });
    // the prefill and one call per new token but the last
    expect(append).toHaveBeenCalledTimes(steps);
    append.mockRestore();
    // the same greedy decode through decode(), which feeds back the present.* outputs
    const { embeds, attentionMask } = await runtime.embedPrompts(prompts);
    let mask = attentionMask;
    let out = await runtime.decode(embeds, mask);
    const want: number[][] = prompts.map(() => []);
    const v = runtime.vocabSize;
    for (let s = 0; s < steps; s++) {
      const t = out.logits.dims[1]!;
      const data = out.logits.data as Float32Array;
      const next = prompts.map((_, b) => {
        const row = data.subarray((b * t + t - 1) * v, (b * t + t) * v);
        return row.indexOf(Math.max(...row));
      });
      next.forEach((id, b) => want[b]!.push(id));
      mask = mask.map((row) => [...row, 1]);
      out = await runtime.decode(await runtime.embed(next.map((id) => [id])), mask, out.past);
    }
    expect(got).toEqual(want);
    expect(new Set(want.flat()).size).toBeGreaterThan(2);
  });
});
