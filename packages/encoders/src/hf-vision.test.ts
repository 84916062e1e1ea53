import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, ConfigError, Registry, Rng, saveHfFolder, type EncoderContext, type VisionEncoder } from '@mllm/core';
import { forwardHfVision, loadHfVisionEncoder } from './hf-vision';
import { hfVitFields } from './hf-vision-config';
import { registerEncoders } from './register';
import { VisionTransformer } from './vit';
import { referenceVision, type RefConfig, type Weights } from './hf-vision-reference.test-helper';

/** Tiny towers: D 16, 2 heads, 3 layers, intermediate 24 (not 4 D), 8x8 images of 4x4 patches. */
const SHAPE = { hidden_size: 16, intermediate_size: 24, num_hidden_layers: 3, num_attention_heads: 2, image_size: 8, patch_size: 4 };

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** HF-named random weights of a vision tower (values rounded to float32, as the file holds them). */
function towerWeights(variant: 'clip' | 'siglip', seed: number, useHead = true): Weights {
  const rand = mulberry(seed);
  const w: Weights = {};
  const put = (name: string, shape: number[], scale: number, offset = 0) => {
    const n = shape.reduce((a, b) => a * b, 1);
    w[name] = { shape, data: Float32Array.from({ length: n }, () => offset + scale * (2 * rand() - 1)) };
  };
  const { hidden_size: d, intermediate_size: f, num_hidden_layers: L, image_size: s, patch_size: p } = SHAPE;
  const n = (s / p) ** 2;
  put('embeddings.patch_embedding.weight', [d, 3, p, p], 0.3);
  if (variant === 'siglip') put('embeddings.patch_embedding.bias', [d], 0.2);
  if (variant === 'clip') put('embeddings.class_embedding', [d], 0.5);
  put('embeddings.position_embedding.weight', [variant === 'clip' ? n + 1 : n, d], 0.3);
  const norm = (name: string) => {
    put(`${name}.weight`, [d], 0.3, 1);
    put(`${name}.bias`, [d], 0.2);
  };
  const lin = (name: string, out: number, inF: number) => {
    put(`${name}.weight`, [out, inF], 1 / Math.sqrt(inF));
    put(`${name}.bias`, [out], 0.1);
  };
  if (variant === 'clip') norm('pre_layrnorm');
  for (let l = 0; l < L; l++) {
    const at = `encoder.layers.${l}`;
    norm(`${at}.layer_norm1`);
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) lin(`${at}.self_attn.${proj}`, d, d);
    norm(`${at}.layer_norm2`);
    lin(`${at}.mlp.fc1`, f, d);
    lin(`${at}.mlp.fc2`, d, f);
  }
  norm('post_layernorm');
  if (variant === 'siglip' && useHead) {
    put('head.probe', [1, 1, d], 1);
    put('head.attention.in_proj_weight', [3 * d, d], 1 / Math.sqrt(d));
    put('head.attention.in_proj_bias', [3 * d], 0.1);
    lin('head.attention.out_proj', d, d);
    norm('head.layernorm');
    lin('head.mlp.fc1', f, d);
    lin('head.mlp.fc2', d, f);
  }
  return w;
}

async function writeFolder(dir: string, config: Record<string, unknown>, tensors: Weights, options: { shards?: number } = {}): Promise<void> {
  const tfTensors = Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, tf.tensor(Float32Array.from(t.data), t.shape)]));
  try {
    await saveHfFolder(dir, config, tfTensors, options);
  } finally {
    tf.dispose(Object.values(tfTensors));
  }
}

const prefixed = (w: Weights, prefix: string): Weights => Object.fromEntries(Object.entries(w).map(([k, v]) => [prefix + k, v]));

function randomPixels(seed: number, batch: number): number[][][][] {
  const rand = mulberry(seed);
  return Array.from({ length: batch }, () => Array.from({ length: 3 }, () => Array.from({ length: 8 }, () => Array.from({ length: 8 }, () => 4 * rand() - 2))));
}

function maxAbsDiff(a: unknown, b: unknown): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return Infinity;
    return a.reduce((m: number, x, i) => Math.max(m, maxAbsDiff(x, b[i])), 0);
  }
  return Math.abs((a as number) - (b as number));
}

const CLIP_REF: RefConfig = { variant: 'clip', dim: 16, heads: 2, layers: 3, patch: 4, image: 8, channels: 3, eps: 1e-5, act: 'quick_gelu', useHead: false };
const SIGLIP_REF: RefConfig = { ...CLIP_REF, variant: 'siglip', eps: 1e-6, act: 'gelu_pytorch_tanh', useHead: true };

/** The reference's outputs for a batch, in forwardHfVision's layout. */
function reference(c: RefConfig, w: Weights, pixels: number[][][][]) {
  const per = pixels.map((img) => referenceVision(c, w, img));
  return {
    hiddenStates: per[0]!.hiddenStates.map((_, l) => per.map((r) => r.hiddenStates[l]!)),
    lastHiddenState: per.map((r) => r.lastHiddenState),
    poolerOutput: per.map((r) => r.poolerOutput),
  };
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hf-vision-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('HF CLIP / SigLIP vision import matches transformers (float64 reference)', () => {
  it('CLIPVisionModel: hidden states (pre_layrnorm first), last_hidden_state and post-normed CLS pooler to 1e-4', async () => {
    const dir = join(root, 'clip-vision');
    const w = towerWeights('clip', 1);
    // hidden_act and layer_norm_eps left out: save_pretrained omits defaults (quick_gelu, 1e-5)
    await writeFolder(dir, { architectures: ['CLIPVisionModel'], model_type: 'clip_vision_model', ...SHAPE }, prefixed(w, 'vision_model.'));
    const pixels = randomPixels(2, 2);
    const before = tf.memory().numTensors;
    const ours = await forwardHfVision(dir, pixels);
    expect(tf.memory().numTensors).toBe(before);
    const ref = reference(CLIP_REF, w, pixels);
    expect(ours.hiddenStates).toHaveLength(4);
    expect(ours.hiddenStates[0]![0]).toHaveLength(5); // CLS + 4 patches
    expect(maxAbsDiff(ours.hiddenStates, ref.hiddenStates)).toBeLessThan(1e-4);
    expect(maxAbsDiff(ours.lastHiddenState, ref.lastHiddenState)).toBeLessThan(1e-4);
    expect(maxAbsDiff(ours.poolerOutput, ref.poolerOutput)).toBeLessThan(1e-4);
    // the test can fail: exact GELU instead of quick_gelu is far outside the tolerance
    expect(maxAbsDiff(ours.lastHiddenState, reference({ ...CLIP_REF, act: 'gelu' }, w, pixels).lastHiddenState)).toBeGreaterThan(1e-3);
  });

  it('CLIPModel: the vision tower of a full, sharded checkpoint (text tower, projections, stale position_ids ignored)', async () => {
    const dir = join(root, 'clip-full');
    const w = towerWeights('clip', 3);
    const text = { 'text_model.embeddings.token_embedding.weight': { shape: [10, 8], data: new Float32Array(80).fill(0.1) }, 'text_model.final_layer_norm.weight': { shape: [8], data: new Float32Array(8).fill(1) } };
    const extra = {
      'visual_projection.weight': { shape: [4, 16], data: new Float32Array(64).fill(0.2) },
      'text_projection.weight': { shape: [4, 8], data: new Float32Array(32).fill(0.2) },
      logit_scale: { shape: [], data: new Float32Array([2.6592]) },
      'vision_model.embeddings.position_ids': { shape: [1, 5], data: new Float32Array([0, 1, 2, 3, 4]) },
    };
    const config = { architectures: ['CLIPModel'], model_type: 'clip', projection_dim: 4, text_config: { hidden_size: 8 }, vision_config: { ...SHAPE, hidden_act: 'gelu', layer_norm_eps: 1e-6 } };
    await writeFolder(dir, config, { ...prefixed(w, 'vision_model.'), ...text, ...extra }, { shards: 3 });
    const pixels = randomPixels(4, 1);
    const ours = await forwardHfVision(dir, pixels);
    const ref = reference({ ...CLIP_REF, act: 'gelu', eps: 1e-6 }, w, pixels);
    expect(maxAbsDiff(ours.hiddenStates, ref.hiddenStates)).toBeLessThan(1e-4);
    expect(maxAbsDiff(ours.lastHiddenState, ref.lastHiddenState)).toBeLessThan(1e-4);
    expect(maxAbsDiff(ours.poolerOutput, ref.poolerOutput)).toBeLessThan(1e-4);
  });

  it('a shard that holds only the text tower is never opened', async () => {
    const dir = join(root, 'clip-text-shard');
    const w = towerWeights('clip', 13);
    await writeFolder(dir, { model_type: 'clip', vision_config: SHAPE }, prefixed(w, 'vision_model.'));
    renameSync(join(dir, 'model.safetensors'), join(dir, 'vision.safetensors'));
    const weightMap = Object.fromEntries([...Object.keys(w).map((n) => [`vision_model.${n}`, 'vision.safetensors']), ['text_model.final_layer_norm.weight', 'text.safetensors']]);
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap })); // text.safetensors does not exist
    const pixels = randomPixels(14, 1);
    const ours = await forwardHfVision(dir, pixels);
    expect(maxAbsDiff(ours.poolerOutput, reference(CLIP_REF, w, pixels).poolerOutput)).toBeLessThan(1e-4);
  });

  it('SiglipVisionModel: conv bias, no CLS, raw hidden states, post-normed last_hidden_state, attention-pool head to 1e-4', async () => {
    const dir = join(root, 'siglip-vision');
    const w = towerWeights('siglip', 5);
    await writeFolder(dir, { architectures: ['SiglipVisionModel'], model_type: 'siglip_vision_model', ...SHAPE }, prefixed(w, 'vision_model.'));
    const pixels = randomPixels(6, 2);
    const ours = await forwardHfVision(dir, pixels);
    const ref = reference(SIGLIP_REF, w, pixels);
    expect(ours.hiddenStates[0]![0]).toHaveLength(4); // patches only
    expect(maxAbsDiff(ours.hiddenStates, ref.hiddenStates)).toBeLessThan(1e-4);
    expect(maxAbsDiff(ours.lastHiddenState, ref.lastHiddenState)).toBeLessThan(1e-4);
    expect(maxAbsDiff(ours.poolerOutput, ref.poolerOutput)).toBeLessThan(1e-4);
    // hidden_states[-1] is the raw last layer, last_hidden_state the post-normed one
    expect(maxAbsDiff(ours.hiddenStates[3], ours.lastHiddenState)).toBeGreaterThan(1e-2);
  });

  it('SiglipModel: the vision tower of a full checkpoint, vision_use_head false', async () => {
    const dir = join(root, 'siglip-full');
    const w = towerWeights('siglip', 7, false);
    const extra = { logit_scale: { shape: [1], data: new Float32Array([1]) }, logit_bias: { shape: [1], data: new Float32Array([-10]) }, 'text_model.head.weight': { shape: [8, 8], data: new Float32Array(64) } };
    await writeFolder(dir, { architectures: ['SiglipModel'], model_type: 'siglip', vision_config: { ...SHAPE, vision_use_head: false } }, { ...prefixed(w, 'vision_model.'), ...extra });
    const pixels = randomPixels(8, 1);
    const ours = await forwardHfVision(dir, pixels);
    const ref = reference({ ...SIGLIP_REF, useHead: false }, w, pixels);
    expect(maxAbsDiff(ours.hiddenStates, ref.hiddenStates)).toBeLessThan(1e-4);
    expect(maxAbsDiff(ours.lastHiddenState, ref.lastHiddenState)).toBeLessThan(1e-4);
  });
});

describe('"encoder": { "type": "vit", "from": "hf:..." }', () => {
  const registry = () => {
    const r = { encoders: new Registry<EncoderContext, VisionEncoder>('encoder') };
    registerEncoders(r);
    return r;
  };

  it('takes its shape from config.json and normalises [0, 1] pixels with preprocessor_config.json; encode is the penultimate layer without CLS', async () => {
    const dir = join(root, 'clip-pre');
    const w = towerWeights('clip', 9);
    await writeFolder(dir, { model_type: 'clip_vision_model', ...SHAPE }, prefixed(w, 'vision_model.'));
    const mean = [0.4, 0.5, 0.6];
    const std = [0.2, 0.25, 0.3];
    writeFileSync(join(dir, 'preprocessor_config.json'), JSON.stringify({ image_processor_type: 'CLIPImageProcessor', crop_size: 8, size: { shortest_edge: 8 }, image_mean: mean, image_std: std }));
    const encoder = registry().encoders.build({ type: 'vit', from: `hf:${dir}` }, { rng: new Rng(1) }) as VisionTransformer;
    expect(encoder.config).toMatchObject({ dim: 16, layers: 3, heads: 2, mlpHidden: 24, imageSize: 8, patchSize: 4, activation: 'quick-gelu', normEps: 1e-5, pixelMean: mean, pixelStd: std });
    expect(encoder.numTokens).toBe(4);
    const rand = mulberry(10);
    const nhwc = Array.from({ length: 8 }, () => Array.from({ length: 8 }, () => Array.from({ length: 3 }, () => rand()))); // [H][W][C] in [0, 1]
    const nchw = [0, 1, 2].map((c) => nhwc.map((row) => row.map((px) => (px[c]! - mean[c]!) / std[c]!)));
    const features = encoder.encode(tf.tensor4d([nhwc]));
    const ref = referenceVision(CLIP_REF, w, nchw);
    expect(features.shape).toEqual([1, 4, 16]);
    expect(maxAbsDiff(features.arraySync()[0], ref.hiddenStates[2]!.slice(1))).toBeLessThan(1e-4); // hidden_states[-2], CLS dropped
    features.dispose();

    const full = registry().encoders.build({ type: 'vit', from: `hf:${dir}`, featureLayer: -1, includeCls: true }, { rng: new Rng(1) });
    const last = full.encode(tf.tensor4d([nhwc]));
    expect(last.shape).toEqual([1, 5, 16]);
    expect(maxAbsDiff(last.arraySync()[0], ref.hiddenStates[3])).toBeLessThan(1e-4);
    tf.dispose([last]);
    encoder.dispose();
    full.dispose();
  });

  it('absent config keys take transformers defaults (save_pretrained writes only the differences)', () => {
    const write = (name: string, config: object) => {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
      return dir;
    };
    expect(hfVitFields(write('clip-defaults', { model_type: 'clip' }))).toEqual({
      variant: 'clip', imageSize: 224, patchSize: 32, channels: 3, dim: 768, layers: 12, heads: 12, mlpHidden: 3072, activation: 'quick-gelu', normEps: 1e-5, attentionPool: false,
      pixelMean: [0.48145466, 0.4578275, 0.40821073], pixelStd: [0.26862954, 0.26130258, 0.27577711],
    });
    // an older CLIPConfig's vision_config_dict replaces vision_config, as CLIPConfig.__init__ does
    expect(hfVitFields(write('clip-dict', { model_type: 'clip', vision_config: { hidden_size: 64 }, vision_config_dict: { hidden_size: 1024, patch_size: 14 } }))).toMatchObject({ dim: 1024, patchSize: 14 });
    expect(hfVitFields(write('siglip-defaults', { model_type: 'siglip_vision_model', image_size: [384, 384] }))).toMatchObject({
      variant: 'siglip', imageSize: 384, patchSize: 16, activation: 'gelu-tanh', normEps: 1e-6, attentionPool: true, pixelMean: [0.5, 0.5, 0.5], pixelStd: [0.5, 0.5, 0.5],
    });
  });

  it('a field that disagrees with config.json is a config error by path', () => {
    const dir = join(root, 'clip-vision');
    const build = () => registry().encoders.build({ type: 'vit', from: `hf:${dir}`, dim: 32, patchSize: 4 }, { rng: new Rng(1) });
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/encoder\.dim: 32 disagrees with the checkpoint's 16 \(hidden_size\); drop the field/);
    expect(() => registry().encoders.build({ type: 'vit', from: `hf:${join(root, 'siglip-vision')}`, includeCls: true }, { rng: new Rng(1) })).toThrow(/includeCls: a siglip encoder has no CLS token/);
  });

  it('an unsupported model type names the supported ones; a missing folder says what it wants', async () => {
    const dir = join(root, 'llava');
    await writeFolder(dir, { architectures: ['LlavaForConditionalGeneration'], model_type: 'llava', vision_config: { model_type: 'clip_vision_model' } }, { x: { shape: [1], data: [0] } });
    expect(() => loadHfVisionEncoder(dir)).toThrow(/encoder\.from: .*model_type "llava" \(LlavaForConditionalGeneration\) is not a supported vision tower; supported: clip, clip_vision_model, siglip, siglip_vision_model/);
    expect(() => loadHfVisionEncoder(join(root, 'nope'))).toThrow(/config\.json is missing; "from" names a HuggingFace model folder/);
    await writeFolder(join(root, 'relu6'), { model_type: 'clip_vision_model', ...SHAPE, hidden_act: 'relu6' }, { x: { shape: [1], data: [0] } });
    expect(() => loadHfVisionEncoder(join(root, 'relu6'))).toThrow(/hidden_act "relu6" is not supported; supported: gelu, gelu_pytorch_tanh/);
  });

  it('a config.json larger than its weights is refused from the headers before a tower is built; so are tampered weight files', async () => {
    const dir = join(root, 'too-large');
    await writeFolder(dir, { model_type: 'clip_vision_model', ...SHAPE }, prefixed(towerWeights('clip', 13), 'vision_model.'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'clip_vision_model', ...SHAPE, hidden_size: 1024, intermediate_size: 4096, num_hidden_layers: 24, num_attention_heads: 16 }));
    const before = tf.memory().numTensors;
    for (const build of [() => loadHfVisionEncoder(dir), () => registry().encoders.build({ type: 'vit', from: `hf:${dir}` }, { rng: new Rng(1) })]) {
      expect(build).toThrow(CheckpointError);
      expect(build).toThrow(/config\.json: describes a vision tower of 3\.02e\+8 parameters \(hidden_size 1024, 24 layers, image_size 8, patch_size 4\) but the weights hold \d+ in its tensors/);
    }
    expect(tf.memory().numTensors).toBe(before);
    const appended = join(root, 'appended');
    await writeFolder(appended, { model_type: 'clip_vision_model', ...SHAPE }, prefixed(towerWeights('clip', 13), 'vision_model.'));
    const weights = join(appended, 'model.safetensors');
    writeFileSync(weights, Buffer.concat([readFileSync(weights), Buffer.alloc(8)]));
    expect(() => loadHfVisionEncoder(appended)).toThrow(/model\.safetensors: 8 bytes follow the last tensor/);
  });

  it('weights that do not fit config.json list the first mismatches by name', async () => {
    const dir = join(root, 'mismatch');
    const w = towerWeights('clip', 11);
    delete w['encoder.layers.2.mlp.fc2.bias'];
    w['encoder.layers.0.mlp.fc1.weight'] = { shape: [32, 16], data: new Float32Array(512) };
    w['encoder.layers.0.mlp.fc3.weight'] = { shape: [2], data: new Float32Array(2) };
    await writeFolder(dir, { model_type: 'clip_vision_model', ...SHAPE }, prefixed(w, 'vision_model.'));
    const before = tf.memory().numTensors;
    const load = () => loadHfVisionEncoder(dir);
    expect(load).toThrow(/vision_model\.encoder\.layers\.0\.mlp\.fc1\.weight is \[32,16\], the config gives \[24,16\]/);
    expect(load).toThrow(/1 missing: vision_model\.encoder\.layers\.2\.mlp\.fc2\.bias/);
    expect(load).toThrow(/1 unexpected: encoder\.layers\.0\.mlp\.fc3\.weight/);
    expect(tf.memory().numTensors).toBe(before);
    // a SigLIP checkpoint with a head under a config that turns it off
    const sig = join(root, 'siglip-headless');
    await writeFolder(sig, { model_type: 'siglip_vision_model', ...SHAPE, vision_use_head: false }, prefixed(towerWeights('siglip', 12), 'vision_model.'));
    expect(() => loadHfVisionEncoder(sig)).toThrow(/11 unexpected: head\.attention\.in_proj_bias, .*\(3 more\)/);
  });

  it('pixelValues of the wrong shape are refused with the expected layout', async () => {
    await expect(forwardHfVision(join(root, 'clip-vision'), [[[[0]]]])).rejects.toThrow(/pixelValues must be \[batch\]\[3\]\[8\]\[8\] \(NCHW/);
  });
});
