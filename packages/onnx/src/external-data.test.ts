import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { exportModel } from './export-model';
import { OnnxMultimodalModel } from './runtime';
import { OnnxModelError } from './manifest';
import { GraphBuilder } from './graph-builder';
import { AUTO_EXTERNAL_BYTES, INLINE_WEIGHT_LIMIT, writeGraphFile } from './graph-file';
import { IMAGE, tempDir, testImage, tinyModel } from './test-model.test-helper';

const { onnx } = onnxProto;
const prompt = { ids: [1, IMAGE, 9, 10, 11], images: [testImage(1)] };

describe('external data (ONNX weights beside the graph)', () => {
  it('writes <graph>.onnx_data with location/offset/length entries that onnxruntime reads to the same logits', async () => {
    const model = tinyModel({ llm: { type: 'causal', dim: 64, layers: 2, heads: 4, kvHeads: 2 } });
    const root = tempDir('mllm-onnx-external-');
    const inline = await exportModel(model, join(root, 'inline'), { maxPositions: 32 });
    const external = await exportModel(model, join(root, 'external'), { maxPositions: 32, externalData: true });
    expect(inline.externalData).toBeUndefined();
    expect(external.externalData).toEqual({
      visionEncoder: 'onnx/vision_encoder.onnx_data',
      embedTokens: 'onnx/embed_tokens.onnx_data',
      decoder: 'onnx/decoder_model_merged.onnx_data',
    });
    const dir = join(root, 'external');
    const graph = onnx.ModelProto.decode(readFileSync(join(dir, 'onnx/decoder_model_merged.onnx')));
    const data = readFileSync(join(dir, 'onnx/decoder_model_merged.onnx_data'));
    const inlineGraph = onnx.ModelProto.decode(readFileSync(join(root, 'inline/onnx/decoder_model_merged.onnx')));
    const moved = graph.graph!.initializer!.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
    expect(moved.length).toBeGreaterThan(0);
    for (const t of moved) {
      const entry = Object.fromEntries(t.externalData!.map((e) => [e.key, e.value]));
      expect(entry.location).toBe('decoder_model_merged.onnx_data');
      expect(Number(entry.offset) % 4096).toBe(0);
      // the bytes at offset..offset+length are the tensor the inline export holds
      const same = inlineGraph.graph!.initializer!.find((u) => u.name === t.name)!;
      expect(Buffer.from(data.subarray(Number(entry.offset), Number(entry.offset) + Number(entry.length))).equals(Buffer.from(same.rawData!))).toBe(true);
    }
    expect(statSync(join(dir, 'onnx/decoder_model_merged.onnx')).size).toBeLessThan(statSync(join(root, 'inline/onnx/decoder_model_merged.onnx')).size / 4);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))['transformers.js_config'].use_external_data_format).toEqual({
      'vision_encoder.onnx': true,
      'embed_tokens.onnx': true,
      'decoder_model_merged.onnx': true,
    });

    const logits: Float32Array[] = [];
    for (const name of ['inline', 'external']) {
      const runtime = await OnnxMultimodalModel.load(join(root, name));
      logits.push((await runtime.promptLogits([prompt])).data as Float32Array);
      await runtime.release();
    }
    expect(Array.from(logits[1]!)).toEqual(Array.from(logits[0]!));
    model.dispose();
  });

  it('a missing weights file is refused by name before onnxruntime opens the graph', async () => {
    const model = tinyModel();
    const dir = join(tempDir('mllm-onnx-external-missing-'), 'out');
    await exportModel(model, dir, { externalData: true });
    rmSync(join(dir, 'onnx/decoder_model_merged.onnx_data'));
    const load = OnnxMultimodalModel.load(dir);
    await expect(load).rejects.toThrow(OnnxModelError);
    await expect(OnnxMultimodalModel.load(dir)).rejects.toThrow(/decoder_model_merged\.onnx_data: not found \(mllm\.json externalData\.decoder\)/);
    model.dispose();
  });

  it("'auto' keeps small graphs in one file and moves large ones out; weights past protobuf's limit are refused inline with the way out", async () => {
    const model = tinyModel();
    const dir = join(tempDir('mllm-onnx-external-auto-'), 'out');
    await exportModel(model, dir);
    expect(existsSync(join(dir, 'onnx/decoder_model_merged.onnx_data'))).toBe(false);
    model.dispose();
    // a builder that claims more weight bytes than one protobuf holds (allocating 2 GiB here would not test more)
    const huge = new GraphBuilder('huge');
    Object.defineProperty(huge, 'initializerBytes', { get: () => INLINE_WEIGHT_LIMIT + 1 });
    const path = join(tempDir('mllm-onnx-external-huge-'), 'huge.onnx');
    await expect(writeGraphFile(huge, path, false)).rejects.toThrow(/1\.94 GiB of weights, more than one ONNX protobuf can.*externalData 'auto' or true.*--dtype fp16 or int8/);
    expect(existsSync(path)).toBe(false);
    // 'auto' moves a graph of more than 1 GiB out, before protobuf's limit, so no second copy is encoded
    const large = new GraphBuilder('large');
    Object.defineProperty(large, 'initializerBytes', { get: () => AUTO_EXTERNAL_BYTES + 1 });
    const largePath = join(tempDir('mllm-onnx-external-large-'), 'large.onnx');
    expect(await writeGraphFile(large, largePath, 'auto')).toBe(true);
    expect(existsSync(`${largePath}_data`)).toBe(true);
  });
});
