import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { exportModel } from './export-model';
import { OnnxMultimodalModel } from './runtime';
import { UnsupportedExportError } from './supported';
import { GraphBuilder, toFloat16 } from './graph-builder';
import { IMAGE, tempDir, testImage, tinyModel } from './test-model.test-helper';

const prompt = { ids: [1, IMAGE, 9, 10, 11], images: [testImage(1)] };

describe('exportModel', () => {
  it('writes the Optimum split layout transformers.js reads, and mllm.json', async () => {
    const model = tinyModel();
    const dir = join(tempDir('mllm-onnx-layout-'), 'out');
    const manifest = await exportModel(model, dir, { maxPositions: 64 });
    for (const f of ['onnx/vision_encoder.onnx', 'onnx/embed_tokens.onnx', 'onnx/decoder_model_merged.onnx', 'config.json', 'generation_config.json', 'preprocessor_config.json', 'processor_config.json', 'mllm.json'])
      expect(existsSync(join(dir, f)), f).toBe(true);
    expect(manifest.image.tokensPerImage).toBe(4);
    const decoder = await ort.InferenceSession.create(join(dir, 'onnx/decoder_model_merged.onnx'));
    expect(decoder.inputNames).toEqual(['inputs_embeds', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
    // logits and each call's new keys/values first (what @mllm/onnx fetches), then the cache transformers.js takes
    expect(decoder.outputNames).toEqual(['logits', 'new_key_values.0.key', 'new_key_values.0.value', 'new_key_values.1.key', 'new_key_values.1.value', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    await decoder.release();
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config.vision_config.patch_size).toBe(4);
    expect(config.vision_feature_layer).toBe(-2); // penultimate of 2 blocks
    // PIL BICUBIC: the filter training data and chat resize with (@mllm/data DEFAULT_RESAMPLE)
    expect(JSON.parse(readFileSync(join(dir, 'preprocessor_config.json'), 'utf8'))).toMatchObject({ resample: 3, do_center_crop: false, size: { height: 8, width: 8 } });
    model.dispose();
  });

  it.each([
    [{ llm: { type: 'causal', dim: 16, layers: 2, heads: 4, ffn: { type: 'moe', experts: 2, topK: 1 } } }, /not supported yet: llm.layers\[0\].mlp .*no mixture of experts/],
    [{ llm: { type: 'prefix', dim: 16, layers: 2, heads: 4 } }, /not supported yet: llm PrefixLM/],
    [{ llm: { type: 'encoder-decoder', dim: 16, layers: 2, heads: 4 } }, /not supported yet: llm EncoderDecoderLM/],
    [
      { encoder: { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 1, heads: 2, highRes: { strategy: 'resize', inputSize: 16 } } },
      /not supported yet: encoder/,
    ],
  ])('refuses %j naming the component, and writes nothing', async (overrides, message) => {
    const model = tinyModel(overrides);
    const dir = join(tempDir('mllm-onnx-unsupported-'), 'out');
    await expect(exportModel(model, dir)).rejects.toThrow(UnsupportedExportError);
    await expect(exportModel(model, dir)).rejects.toThrow(message);
    expect(existsSync(dir)).toBe(false);
    model.dispose();
  });

  it('never replaces a folder that is not an earlier export', async () => {
    const model = tinyModel();
    const dir = tempDir('mllm-onnx-guard-');
    writeFileSync(join(dir, 'notes.txt'), 'keep me');
    await expect(exportModel(model, dir)).rejects.toThrow(/not an ONNX export.*notes\.txt/);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('keep me');
    model.dispose();
  });

  it('fp16 and int8 weights: smaller files, logits close to fp32, transformers.js file names', async () => {
    const model = tinyModel({ llm: { type: 'causal', dim: 64, layers: 2, heads: 4, kvHeads: 2 } });
    const root = tempDir('mllm-onnx-formats-');
    const logits: Record<string, Float32Array> = {};
    const sizes: Record<string, number> = {};
    for (const weights of ['fp32', 'fp16', 'int8'] as const) {
      const manifest = await exportModel(model, join(root, weights), { weights, maxPositions: 32 });
      sizes[weights] = statSync(join(root, weights, manifest.files.decoder)).size;
      const runtime = await OnnxMultimodalModel.load(join(root, weights));
      logits[weights] = (await runtime.promptLogits([prompt])).data as Float32Array;
      await runtime.release();
    }
    expect(existsSync(join(root, 'fp16/onnx/decoder_model_merged_fp16.onnx'))).toBe(true);
    expect(existsSync(join(root, 'int8/onnx/decoder_model_merged_quantized.onnx'))).toBe(true);
    expect(sizes.fp16!).toBeLessThan(0.6 * sizes.fp32!);
    expect(sizes.int8!).toBeLessThan(0.35 * sizes.fp32!);
    const range = Math.max(...logits.fp32!.map(Math.abs));
    const diff = (a: Float32Array, b: Float32Array) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
    expect(diff(logits.fp16!, logits.fp32!)).toBeLessThan(0.01 * range);
    expect(diff(logits.int8!, logits.fp32!)).toBeLessThan(0.1 * range);
    expect(diff(logits.int8!, logits.fp32!)).toBeGreaterThan(0); // it did quantize
    model.dispose();
  });

  it('toFloat16 rounds to the nearest binary16', () => {
    expect(Array.from(toFloat16(Float32Array.from([0, 1, -2, 65504, 1e9, 5.960464477539063e-8, 1 + 2 ** -11, 1 + 3 * 2 ** -11])))).toEqual([
      0, 0x3c00, 0xc000, 0x7bff, 0x7c00, 0x0001, 0x3c00, 0x3c02,
    ]);
  });

  it('GraphBuilder graphs run in onnxruntime (a LayerNormalization + MatMul graph)', async () => {
    const g = new GraphBuilder('tiny');
    const x = g.input('x', 'float32', ['n', 2]);
    const y = g.op('MatMul', [g.op('LayerNormalization', [x, g.constFloat([1, 1]), g.constFloat([0, 0])], { axis: { int: -1 }, epsilon: { float: 0 } }), g.constFloat([1, 2, 3, 4], [2, 2])]);
    g.output(y, 'y', 'float32', ['n', 2]);
    const session = await ort.InferenceSession.create(g.serialize());
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 3]), [1, 2]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([-1 + 3, -2 + 4]); // normalized [-1, 1] @ [[1, 2], [3, 4]]
  });
});

describe('OnnxMultimodalModel.load', () => {
  it('names the file and field of a missing or mismatched manifest', async () => {
    const model = tinyModel();
    const dir = join(tempDir('mllm-onnx-manifest-'), 'out');
    await exportModel(model, dir, { maxPositions: 16 });
    const manifestPath = join(dir, 'mllm.json');
    const original = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const broken = (m: Record<string, any>) => writeFileSync(manifestPath, JSON.stringify(m));

    broken({ ...original, llm: { ...original.llm, layers: 3 } });
    await expect(OnnxMultimodalModel.load(dir)).rejects.toThrow(/mllm\.json: field "llm.layers" is 3 but \S*onnx\/decoder_model_merged\.onnx has 2 layers/);
    broken({ ...original, image: { ...original.image, tokensPerImage: undefined } });
    await expect(OnnxMultimodalModel.load(dir)).rejects.toThrow(/mllm\.json: field "image.tokensPerImage"/);
    broken({ ...original, files: { ...original.files, decoder: 'onnx/nope.onnx' } });
    await expect(OnnxMultimodalModel.load(dir)).rejects.toThrow(/onnx\/nope\.onnx: not found \(mllm\.json files\.decoder\)/);
    mkdirSync(join(dir, 'empty'));
    await expect(OnnxMultimodalModel.load(join(dir, 'empty'))).rejects.toThrow(/empty\/mllm\.json: not found/);
    broken(original);
    const runtime = await OnnxMultimodalModel.load(dir);
    await expect(runtime.generate([{ ids: [1, IMAGE, IMAGE], images: [testImage(1)] }], { maxNewTokens: 1, stopTokens: [] })).rejects.toThrow(/2 <image> tokens but 1 images/);
    // maxPositions 16: a 5-token prompt (8 after the image) plus 9 new tokens runs past the RoPE table
    await expect(runtime.generate([prompt], { maxNewTokens: 12, stopTokens: [] })).rejects.toThrow(/longer than the export's RoPE table \(mllm\.json llm\.maxPositions 16\)/);
    await runtime.release();
    model.dispose();
  });
});

describe('exportModel decoderOps', () => {
  const decoderOps = async (llm: Record<string, unknown>, options: { decoderOps?: 'contrib' | 'standard' }) => {
    const model = tinyModel({ llm });
    const dir = join(tempDir('mllm-onnx-ops-'), 'out');
    const manifest = await exportModel(model, dir, { maxPositions: 32, ...options });
    model.dispose();
    const graph = readFileSync(join(dir, 'onnx/decoder_model_merged.onnx'));
    // the logits and each layer's new keys and values are the nodes' own outputs: no Identity copies them
    expect(graph.includes('Identity')).toBe(false);
    return { cache: manifest.llm.cache, contrib: graph.includes('GroupQueryAttention'), domain: graph.includes('com.microsoft') };
  };
  const wide = { type: 'causal', dim: 32, layers: 2, heads: 2, kvHeads: 1 }; // head width 16

  it('writes GroupQueryAttention by default where the head width allows, standard ops when asked or when it does not', async () => {
    expect(await decoderOps(wide, {})).toEqual({ cache: 'prefix', contrib: true, domain: true });
    expect(await decoderOps(wide, { decoderOps: 'standard' })).toEqual({ cache: undefined, contrib: false, domain: false });
    // head width 4: onnxruntime's GroupQueryAttention kernels take multiples of 16
    expect(await decoderOps({ type: 'causal', dim: 16, layers: 2, heads: 4, kvHeads: 2 }, {})).toEqual({ cache: undefined, contrib: false, domain: false });
  });
});
