#!/usr/bin/env node
// The ONNX export at the size of released checkpoints, from their config numbers (random
// weights, seed 0): a SigLIP-base-patch16-224-shaped tower + mlp + SmolLM2-135M (`135m`) or
// SmolLM2-360M (`360m`) LLM. Exports, loads with @mllm/onnx's runtime and with transformers.js
// (LlavaForConditionalGeneration, local files), greedy-generates from the same image + prompt
// on both and says whether the ids are equal; prints file sizes, times and resident memory.
//
// `node tools/export-at-size.mjs [135m|360m] [fp32|fp16|int8] [auto|external]` after `npm run build`.
// One at-size process at a time: it peaks at ~3-4 GB resident.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { initBackend } from '@mllm/core';
import { buildModel, createComponentRegistry } from '@mllm/model';
import { exportModel, OnnxMultimodalModel } from '@mllm/onnx';

const LLMS = {
  '135m': { type: 'causal', dim: 576, layers: 30, heads: 9, kvHeads: 3, mlpHidden: 1536, ropeTheta: 100000, normEps: 1e-5 },
  '360m': { type: 'causal', dim: 960, layers: 32, heads: 15, kvHeads: 5, mlpHidden: 2560, ropeTheta: 100000, normEps: 1e-5 },
};
const SIGLIP_B16 = { type: 'vit', variant: 'siglip', imageSize: 224, patchSize: 16, dim: 768, layers: 12, heads: 12, mlpHidden: 3072, activation: 'gelu-tanh', normEps: 1e-6 };
const VOCAB = 49152;
const IMAGE_ID = 4;

const [size = '135m', dtype = 'fp32', external = 'auto'] = process.argv.slice(2);
const t0 = performance.now();
const seconds = () => ((performance.now() - t0) / 1000).toFixed(0);
const rss = () => (process.memoryUsage().rss / 2 ** 30).toFixed(2);

await initBackend({ backend: 'cpu' });
const model = buildModel(
  { encoder: SIGLIP_B16, connector: { type: 'mlp' }, llm: LLMS[size] },
  { registry: createComponentRegistry(), vocabSize: VOCAB, special: { imageTokenId: IMAGE_ID, padId: 0 }, seed: 0 },
);
console.log(`built ${size}: LLM ${(model.llm.numParameters() / 1e6).toFixed(1)}M parameters (head untied), ${seconds()} s, RSS ${rss()} GB`);
const root = mkdtempSync(join(tmpdir(), 'mllm-at-size-'));
const dir = join(root, `llava-${size}-${dtype}`);
const manifest = await exportModel(model, dir, { weights: dtype, maxPositions: 2048, externalData: external === 'external' ? true : 'auto' });
model.dispose();
const files = readdirSync(join(dir, 'onnx')).map((f) => `${f} ${(statSync(join(dir, 'onnx', f)).size / 1e6).toFixed(1)} MB`);
console.log(`exported in ${seconds()} s, RSS ${rss()} GB: ${files.join(', ')}`);

// one image, a prompt around its <image>; pixels in [0, 1] HWC, as the runtime takes them
const side = manifest.image.size;
const image = Float32Array.from({ length: side * side * 3 }, (_, i) => ((i * 2654435761) % 997) / 996);
const ids = [1, 17, IMAGE_ID, 23, 42, 99, 7];
const steps = 8;
const runtime = await OnnxMultimodalModel.load(dir);
const tLoad = performance.now();
const ours = (await runtime.generate([{ ids, images: [image] }], { maxNewTokens: steps, stopTokens: [] }))[0];
console.log(`@mllm/onnx: loaded at ${seconds()} s, ${steps} tokens in ${((performance.now() - tLoad) / 1000).toFixed(1)} s, RSS ${rss()} GB: ${JSON.stringify(ours)}`);
await runtime.release();

const { AutoModelForImageTextToText, Tensor, env } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.localModelPath = dirname(dir);
const hf = await AutoModelForImageTextToText.from_pretrained(basename(dir));
const { mean, std, tokensPerImage } = manifest.image;
const pixels = new Float32Array(3 * side * side);
for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) for (let c = 0; c < 3; c++) pixels[(c * side + y) * side + x] = (image[(y * side + x) * 3 + c] - mean[c]) / std[c];
const expanded = ids.flatMap((id) => (id === IMAGE_ID ? new Array(tokensPerImage).fill(id) : [id]));
const out = await hf.generate({
  input_ids: new Tensor('int64', BigInt64Array.from(expanded, BigInt), [1, expanded.length]),
  attention_mask: new Tensor('int64', new BigInt64Array(expanded.length).fill(1n), [1, expanded.length]),
  pixel_values: new Tensor('float32', pixels, [1, 3, side, side]),
  max_new_tokens: steps,
  do_sample: false,
});
const theirs = Array.from(out.data, Number).slice(expanded.length);
console.log(`transformers.js: done at ${seconds()} s, RSS ${rss()} GB: ${JSON.stringify(theirs)}`);
console.log(JSON.stringify(theirs) === JSON.stringify(ours) ? 'same ids' : 'IDS DIFFER');
await hf.dispose();
rmSync(root, { recursive: true, force: true });
