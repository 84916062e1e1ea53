import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { buildModel, collatePrompts, createComponentRegistry, type MultimodalModel } from '@mllm/model';
import { createKvCache, disposeKvCache } from '@mllm/llm';
import { exportModel } from './export-model';
import { OnnxMultimodalModel } from './runtime';
import { IMAGE, tempDir, testImage, tinyModel } from './test-model.test-helper';

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** Two left-padded prompts with images at different places: padding, splice and GQA all matter. */
const prompts = [
  { ids: [1, IMAGE, 9, 10, 11], images: [testImage(1)] },
  { ids: [1, 12, 13, IMAGE, 14, 15, 16, 17], images: [testImage(2)] },
];

/** Max abs difference of logits [B, T, V] over the positions the mask marks real (padding has no logits to compare). */
const maxAbsReal = (a: ArrayLike<number>, b: ArrayLike<number>, mask: number[][], v: number) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  mask.forEach((row, r) =>
    row.forEach((real, t) => {
      if (!real) return;
      for (let k = (r * row.length + t) * v; k < (r * row.length + t + 1) * v; k++) m = Math.max(m, Math.abs(a[k]! - b[k]!));
    }),
  );
  return m;
};

// head width 4: the standard-op decoder; 16: GroupQueryAttention (its rotary kernel takes multiples of 16)
describe.each([
  ['standard ops', { type: 'causal', dim: 16, layers: 2, heads: 4, kvHeads: 2 }, undefined],
  ['GroupQueryAttention', { type: 'causal', dim: 32, layers: 2, heads: 2, kvHeads: 1 }, 'prefix'],
])('ONNX export parity with tfjs (fp32), decoder on %s', (_name, llm, cache) => {
  let model: MultimodalModel;
  let ort: OnnxMultimodalModel;
  const worst: Record<string, number> = {};

  beforeAll(async () => {
    model = tinyModel({ llm });
    const dir = tempDir('mllm-onnx-parity-');
    await exportModel(model, dir);
    ort = await OnnxMultimodalModel.load(dir, { threads: 1 });
    expect(ort.manifest.llm.cache).toBe(cache);
  });
  afterAll(async () => {
    await ort.release();
    model.dispose();
    console.log(`${_name}: ORT vs tfjs max abs logit difference: ${JSON.stringify(worst)}`);
  });

  it('vision encoder + connector: image features equal encodeImages', async () => {
    const images = [testImage(3), testImage(4)];
    const ours = await ort.encodeImages(images);
    const want = model.encodeImages(model.imagesToTensor(images));
    expect(ours.dims).toEqual(want.shape);
    worst.imageFeatures = maxAbs(ours.data as Float32Array, want.dataSync());
    expect(worst.imageFeatures).toBeLessThan(1e-4);
    want.dispose();
  });

  it('prefill and every KV-cached decode step: logits within 1e-4', async () => {
    const batch = collatePrompts(prompts.map((p) => ({ ...p, lossMask: p.ids.map(() => 0) })), model.batchOptions);
    const { embeds, attentionMask } = await ort.embedPrompts(prompts);
    expect(attentionMask).toEqual(batch.attentionMask);
    const tfEmbeds = model.embed(batch.inputIds, batch.images, batch.slots);
    worst.embeds = maxAbs(embeds.data as Float32Array, tfEmbeds.dataSync());
    expect(worst.embeds).toBeLessThan(1e-5);

    const cache = createKvCache();
    let mask = attentionMask;
    let tfLogits = model.llm.forward(tfEmbeds, { attentionMask: batch.attentionMask, cache }).logits;
    let step = await ort.decode(embeds, mask);
    const prefill = maxAbsReal(step.logits.data as Float32Array, tfLogits.dataSync(), attentionMask, model.llm.vocabSize);
    worst.prefill = prefill;
    const steps: number[] = [];
    // teacher-forced continuation with fixed ids, so every step compares the same inputs
    for (const ids of [[5, 6], [7, 8], [2, 3], [20, 21]]) {
      tfLogits.dispose();
      const idsTensor = tf.tensor2d(ids.map((id) => [id]), [2, 1], 'int32');
      const e = model.llm.embed(idsTensor);
      tfLogits = model.llm.forward(e, { attentionMask: [[1], [1]], cache }).logits;
      mask = mask.map((row) => [...row, 1]);
      step = await ort.decode(await ort.embed(ids.map((id) => [id])), mask, step.past);
      expect(step.logits.dims).toEqual([2, 1, model.llm.vocabSize]);
      steps.push(maxAbs(step.logits.data as Float32Array, tfLogits.dataSync()));
      idsTensor.dispose();
      e.dispose();
    }
    worst.decode = Math.max(...steps);
    expect(prefill).toBeLessThan(1e-4);
    expect(worst.decode).toBeLessThan(1e-4);
    // the cache holds every position: 11 prompt (one image = 4 tokens) + 4 decoded
    const { kvHeads, headDim } = ort.manifest.llm;
    expect(step.past['past_key_values.1.key']!.dims).toEqual([2, kvHeads, 15, headDim]); // [B, Hkv, P, dh]
    tfLogits.dispose();
    tfEmbeds.dispose();
    disposeKvCache(cache);
  });

  it('greedy generation is token-for-token the tfjs generation', async () => {
    const options = { maxNewTokens: 12, stopTokens: [] as number[] };
    const want = model.generate(prompts.map((p) => ({ ...p, lossMask: p.ids.map(() => 0) })), options);
    const got = await ort.generate(prompts, options);
    expect(got).toEqual(want);
    expect(got[0]!.length).toBe(12);
  });

  it('sampling (temperature, top-k, top-p, repetition penalty) with the same seed draws the same tokens as tfjs', async () => {
    const sampling = { maxNewTokens: 8, stopTokens: [] as number[], temperature: 1.5, topK: 10, topP: 0.9, repetitionPenalty: 1.3, seed: 7 };
    const want = model.generate(prompts.map((p) => ({ ...p, lossMask: p.ids.map(() => 0) })), sampling);
    const got = await ort.generate(prompts, sampling);
    expect(got).toEqual(want);
    const other = await ort.generate(prompts, { ...sampling, seed: 8 });
    expect(other).not.toEqual(got);
  });

  it('stops a row at its stop token and streams the same tokens generate returns', async () => {
    const full = await ort.generate([prompts[1]!], { maxNewTokens: 6, stopTokens: [] });
    const stop = full[0]![2]!;
    const first = full[0]!.indexOf(stop);
    const stopped = await ort.generate([prompts[1]!], { maxNewTokens: 6, stopTokens: [stop] });
    expect(stopped[0]).toEqual(full[0]!.slice(0, first));
    const streamed: number[] = [];
    for await (const id of ort.stream(prompts[1]!, { maxNewTokens: 6, stopTokens: [] })) streamed.push(id);
    expect(streamed).toEqual(full[0]);
  });
});

/**
 * What a fusion connector's vision graph should output, computed with tfjs: AdapterPrompts'
 * visual_proj(token mean) [I, 1, D], or Flamingo's media_proj(tokens) [I, N, D].
 */
function fusionFeatures(model: MultimodalModel, images: Float32Array[]): tf.Tensor3D {
  const connector = model.connector as unknown as { visualProj?: { forward(x: tf.Tensor): tf.Tensor }; mediaProj?: { forward(x: tf.Tensor): tf.Tensor } };
  return tf.tidy(() => {
    const features = model.encoder.encode(model.imagesToTensor(images));
    return (connector.mediaProj ? connector.mediaProj.forward(features) : connector.visualProj!.forward(features.mean(1)).expandDims(1)) as tf.Tensor3D;
  });
}

describe.each([
  ['linear', { type: 'linear' }],
  ['mlp with an input LayerNorm (InternVL mlp1)', { type: 'mlp', inputNorm: true }],
  ['qformer', { type: 'qformer', numQueries: 3, layers: 2, heads: 2 }],
  ['perceiver (own width: media_proj)', { type: 'perceiver', numLatents: 3, layers: 2, heads: 2, dim: 12 }],
  ['gated-cross-attention (fusion: media keys, per-position image visibility)', { type: 'gated-cross-attention', heads: 2, mlpRatio: 2 }],
  ['adapter-prompts (fusion: prefix in the top layer, gates away from 0)', { type: 'adapter-prompts', prompts: 3, layers: 1 }],
  ['visual-expert (fusion: routed q/k/v and feed-forward, qformer projection)', { type: 'visual-expert', projection: { type: 'qformer', numQueries: 3, layers: 1, heads: 2 } }],
])('ONNX export parity, %s connector', (_name, connector) => {
  it('image features, prompt logits and greedy tokens equal tfjs', async () => {
    const model = tinyModel({ connector });
    const dir = tempDir('mllm-onnx-connector-');
    await exportModel(model, dir, { maxPositions: 64 });
    const ort = await OnnxMultimodalModel.load(dir, { threads: 1 });
    const images = [testImage(3), testImage(4)];
    const features = await ort.encodeImages(images);
    const want = model.connector.kind === 'token-connector' || 'embedImages' in model.connector ? model.encodeImages(model.imagesToTensor(images)) : fusionFeatures(model, images);
    expect(features.dims).toEqual(want.shape);
    const diffs = [maxAbs(features.data as Float32Array, want.dataSync())];
    expect(diffs[0]).toBeLessThan(1e-4);
    // two images in one row, and a batch with no image at all
    for (const batchPrompts of [[...prompts, { ids: [1, IMAGE, 9, IMAGE, 10], images: [testImage(5), testImage(6)] }], [{ ids: [1, 9, 10, 11], images: [] }]]) {
      const samples = batchPrompts.map((p) => ({ ...p, lossMask: p.ids.map(() => 0) }));
      const logits = model.forward({ ...collatePrompts(samples, model.batchOptions) });
      diffs.push(maxAbs((await ort.promptLogits(batchPrompts)).data as Float32Array, logits.dataSync()));
      expect(diffs.at(-1)).toBeLessThan(1e-4);
      expect(await ort.generate(batchPrompts, { maxNewTokens: 6, stopTokens: [] })).toEqual(model.generate(samples, { maxNewTokens: 6, stopTokens: [] }));
      logits.dispose();
    }
    console.log(`${_name}: max abs diff features ${diffs[0]!.toExponential(1)}, logits ${Math.max(...diffs.slice(1)).toExponential(1)}`);
    want.dispose();
    await ort.release();
    model.dispose();
  });
});

describe.each([
  ['SigLIP (no CLS, patch bias, gelu-tanh), penultimate layer', { variant: 'siglip', activation: 'gelu-tanh', normEps: 1e-6 }],
  ['SigLIP, output layer (after post_layernorm)', { variant: 'siglip', activation: 'gelu-tanh', featureLayer: 'output', mlpHidden: 20 }],
  ['CLIP with quick-gelu (OpenAI CLIP)', { activation: 'quick-gelu' }],
])('ONNX export parity, %s vision tower', (_name, tower) => {
  it('image features and prompt logits equal tfjs', async () => {
    const model = tinyModel({ encoder: { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 2, heads: 2, ...tower } });
    const dir = tempDir('mllm-onnx-tower-');
    await exportModel(model, dir, { maxPositions: 64 });
    const ort = await OnnxMultimodalModel.load(dir, { threads: 1 });
    const images = [testImage(3), testImage(4)];
    const features = await ort.encodeImages(images);
    const want = model.encodeImages(model.imagesToTensor(images));
    expect(features.dims).toEqual(want.shape);
    expect(maxAbs(features.data as Float32Array, want.dataSync())).toBeLessThan(1e-4);
    const samples = prompts.map((p) => ({ ...p, lossMask: p.ids.map(() => 0) }));
    const logits = model.forward({ ...collatePrompts(samples, model.batchOptions) });
    expect(maxAbs((await ort.promptLogits(prompts)).data as Float32Array, logits.dataSync())).toBeLessThan(1e-4);
    logits.dispose();
    want.dispose();
    await ort.release();
    model.dispose();
  });
});

describe('ONNX export parity, tied word embeddings', () => {
  it('the decoder reads the embedding table transposed as its head (no lm_head initializer); logits and greedy tokens equal tfjs', async () => {
    const model = tinyModel({ llm: { type: 'causal', dim: 16, layers: 2, heads: 4, kvHeads: 2, tieWordEmbeddings: true } });
    const dir = tempDir('mllm-onnx-tied-');
    await exportModel(model, dir, { maxPositions: 64 });
    const decoder = readFileSync(`${dir}/onnx/decoder_model_merged.onnx`);
    expect(decoder.includes('language_model.lm_head.weight')).toBe(false);
    expect(decoder.includes('language_model.model.embed_tokens.weight')).toBe(true);
    expect(JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')).text_config.tie_word_embeddings).toBe(true);
    const ort = await OnnxMultimodalModel.load(dir, { threads: 1 });
    const samples = prompts.map((p) => ({ ...p, lossMask: p.ids.map(() => 0) }));
    const logits = model.forward({ ...collatePrompts(samples, model.batchOptions) });
    expect(maxAbs((await ort.promptLogits(prompts)).data as Float32Array, logits.dataSync())).toBeLessThan(1e-4);
    expect(await ort.generate(prompts, { maxNewTokens: 6, stopTokens: [] })).toEqual(model.generate(samples, { maxNewTokens: 6, stopTokens: [] }));
    logits.dispose();
    await ort.release();
    model.dispose();
  });
});

describe('visual expert still as built', () => {
  it('exports the expert weights tfjs runs with: the LLM text weights re-copied at the first bind', async () => {
    const model = buildModel(
      { encoder: { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 2, heads: 2 }, connector: { type: 'visual-expert' }, llm: { type: 'causal', dim: 16, layers: 2, heads: 4 } },
      { registry: createComponentRegistry(), vocabSize: 24, special: { imageTokenId: IMAGE, padId: 0 }, seed: 2 },
    );
    // the LLM trains after the experts were built as its copies (stage pretrain-llm), so only its own weights change
    model.llm.namedParameters().forEach(([, p], i) => {
      if (p.shape.length >= 2) p.assign(tf.randomNormal(p.shape, 0, 0.7, 'float32', 500 + i));
    });
    const dir = tempDir('mllm-onnx-expert-');
    await exportModel(model, dir, { maxPositions: 64 });
    const ort = await OnnxMultimodalModel.load(dir, { threads: 1 });
    const samples = prompts.map((p) => ({ ...p, lossMask: p.ids.map(() => 0) }));
    const logits = model.forward({ ...collatePrompts(samples, model.batchOptions) });
    expect(maxAbs((await ort.promptLogits(prompts)).data as Float32Array, logits.dataSync())).toBeLessThan(1e-4);
    logits.dispose();
    await ort.release();
    model.dispose();
  });
});
