import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, ConfigError, MllmError, Rng, parseHfSpec, zodIssues, type LoadReport } from '@mllm/core';
import { readSafetensorsEntriesSync, readSafetensorsSubset } from './safetensors-subset';
import { estimateVit } from './size-estimate';
import { VisionTransformer, vitSchema, type VitConfig } from './vit';

/** Tensors of a full CLIPModel / SiglipModel (or a buffer HF skips) that are not the vision tower. */
const NOT_VISION = /^(text_model\.|visual_projection\.|text_projection\.|logit_scale$|logit_bias$)/;
const VISION_PREFIX = 'vision_model.';
// non-persistent buffer that checkpoints written before transformers 4.31 still carry
const IGNORED_BUFFER = /(^|\.)position_ids$/;

/** Whether a checkpoint tensor is read at all: the vision tower, and anything unknown (so it is reported). */
const wanted = (name: string) => !NOT_VISION.test(name) && !IGNORED_BUFFER.test(name);

/**
 * The weight files of an HF folder that may hold vision-tower tensors: model.safetensors, or the
 * shards model.safetensors.index.json names (a shard holding only text-tower tensors is left out).
 */
function visionWeightFiles(dir: string, keep: (name: string) => boolean): string[] {
  const root = resolve(dir);
  const indexPath = join(root, 'model.safetensors.index.json');
  const single = join(root, 'model.safetensors');
  if (existsSync(indexPath)) {
    let index: unknown;
    try {
      index = JSON.parse(readFileSync(indexPath, 'utf8'));
    } catch (e) {
      throw new CheckpointError(indexPath, `cannot be read as JSON (${(e as Error).message})`);
    }
    const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
    if (!weightMap || typeof weightMap !== 'object' || Array.isArray(weightMap))
      throw new CheckpointError(indexPath, 'has no "weight_map" object (tensor name -> shard file)');
    const shards = [...new Set(Object.entries(weightMap as Record<string, unknown>).filter(([name]) => keep(name)).map(([, shard]) => shard))];
    return shards.map((shard) => {
      if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\') || shard === '..')
        throw new CheckpointError(indexPath, `weight_map names ${JSON.stringify(shard)}; shards must be file names in the same folder`);
      const path = join(root, shard);
      if (!existsSync(path)) throw new CheckpointError(path, 'shard listed in model.safetensors.index.json is missing');
      return path;
    });
  }
  if (!existsSync(single))
    throw new CheckpointError(
      root,
      existsSync(join(root, 'pytorch_model.bin'))
        ? 'holds only PyTorch .bin weights; convert them to safetensors (transformers: model.save_pretrained(dir, safe_serialization=True))'
        : 'has neither model.safetensors nor model.safetensors.index.json',
    );
  return [single];
}

/**
 * The tensors of an HF folder that may belong to the vision tower, read synchronously (the
 * component registry builds synchronously). A full CLIPModel's text tower is never read.
 */
export function readHfTensorsSync(dir: string, keep: (name: string) => boolean = wanted): Record<string, tf.Tensor> {
  const tensors: Record<string, tf.Tensor> = {};
  try {
    for (const file of visionWeightFiles(dir, keep)) Object.assign(tensors, readSafetensorsSubset(file, keep));
  } catch (e) {
    for (const t of Object.values(tensors)) t.dispose();
    throw e;
  }
  return tensors;
}

/**
 * Refuses an HF vision folder whose weights are not the tower its config.json describes, from
 * the safetensors headers alone, before the tower is built: a large config.json over a small
 * checkpoint would otherwise allocate the large tower first. The parameter count the config
 * implies (the estimate the size limits use) must not pass the vision tensors' element count; a
 * config no larger than its weights is built, and the load names each mismatched tensor.
 */
export function checkHfVisionWeights(config: VitConfig, dir: string): void {
  const expected = estimateVit({ ...config, highRes: undefined }).parameters;
  const files = visionWeightFiles(dir, wanted);
  const held = files.flatMap((file) => readSafetensorsEntriesSync(file)).filter((e) => wanted(e.name)).reduce((sum, e) => sum + e.shape.reduce((a, b) => a * b, 1), 0);
  if (expected <= held) return; // no larger than the weights: built, then the load lists each mismatch by name
  const format = (n: number) => (n < 1e5 ? String(n) : n.toExponential(2));
  throw new CheckpointError(
    join(resolve(dir), 'config.json'),
    `describes a vision tower of ${format(expected)} parameters (hidden_size ${config.dim}, ${config.layers} layers, image_size ${config.imageSize}, patch_size ${config.patchSize}) ` +
      `but the weights hold ${format(held)} in its tensors; config.json does not describe these weights, so no encoder was built. Use the config.json saved with them`,
  );
}

/** The vision tower's tensors under our names; the text tower, projections and stale buffers dropped; anything else kept for the mismatch report. */
export function visionTensors(all: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(all)) {
    if (!wanted(name)) continue;
    out[name.startsWith(VISION_PREFIX) ? name.slice(VISION_PREFIX.length) : name] = t;
  }
  return out;
}

const LISTED = 8;
function firstOf(names: string[]): string {
  return names.slice(0, LISTED).join(', ') + (names.length > LISTED ? `, ... (${names.length - LISTED} more)` : '');
}

/** A load report as an error message that names the first offenders of each kind. */
export function describeMismatches(report: LoadReport): string {
  const parts: string[] = [];
  if (report.shapeMismatches.length)
    parts.push(`${report.shapeMismatches.length} with another shape: ${firstOf(report.shapeMismatches.map((m) => `${VISION_PREFIX}${m.name} is [${m.got}], the config gives [${m.expected}]`))}`);
  if (report.missing.length) parts.push(`${report.missing.length} missing: ${firstOf(report.missing.map((n) => VISION_PREFIX + n))}`);
  if (report.unexpected.length) parts.push(`${report.unexpected.length} unexpected: ${firstOf(report.unexpected)}`);
  return `does not fit its config.json (${parts.join('; ')}). Check that config.json belongs to these weights, and that the folder is a CLIP or SigLIP vision model, not a LLaVA checkpoint`;
}

/** Loads an HF folder's vision weights into `vit` by parameter name; throws listing the first mismatches. */
export function loadHfVisionWeights(vit: VisionTransformer, dir: string): void {
  const all = readHfTensorsSync(dir);
  try {
    const report = vit.loadStateDict(visionTensors(all), { strict: false });
    if (report.missing.length + report.unexpected.length + report.shapeMismatches.length > 0) throw new CheckpointError(resolve(dir), describeMismatches(report));
  } finally {
    for (const t of Object.values(all)) t.dispose();
  }
}

/** Builds a `vit` from an HF CLIP / SigLIP folder with its weights; `overrides` sets the fields the folder leaves open (featureLayer, includeCls). */
export function loadHfVisionEncoder(dir: string, overrides: Record<string, unknown> = {}): VisionTransformer {
  const parsed = vitSchema.safeParse({ type: 'vit', ...overrides, from: `hf:${dir}` });
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error, 'encoder'));
  checkHfVisionWeights(parsed.data, dir);
  const vit = new VisionTransformer(parsed.data, new Rng(0));
  try {
    loadHfVisionWeights(vit, dir);
  } catch (e) {
    vit.dispose();
    throw e;
  }
  return vit;
}

export interface HfVisionOutput {
  /** [B][T][D] */
  lastHiddenState: number[][][];
  /** [layers + 1][B][T][D]: the first encoder layer's input, then every layer's output. */
  hiddenStates: number[][][][];
  /** [B][D] */
  poolerOutput: number[][];
}

/**
 * HF `model(pixel_values, output_hidden_states=True)` of a CLIP / SigLIP vision tower, for
 * `mllm forward`: pixelValues [B][C][H][W] already normalised by the image processor.
 */
export async function forwardHfVision(dir: string, pixelValues: number[][][][]): Promise<HfVisionOutput> {
  const vit = loadHfVisionEncoder(parseMaybeSpec(dir));
  try {
    const { imageSize: s, channels: c } = vit.config;
    const shape = nestedShape(pixelValues);
    if (shape.length !== 4 || shape[1] !== c || shape[2] !== s || shape[3] !== s)
      throw new MllmError(`pixelValues must be [batch][${c}][${s}][${s}] (NCHW, normalised as the image processor does), got [${shape.join('][')}]`);
    const flat = new Float32Array(pixelValues.flat(3));
    if (flat.length !== shape.reduce((a, b) => a * b, 1) || flat.some((v) => !Number.isFinite(v)))
      throw new MllmError('pixelValues must be a full rectangular array of finite numbers');
    const nhwc = tf.tidy(() => tf.tensor4d(flat, shape as [number, number, number, number]).transpose([0, 2, 3, 1]) as tf.Tensor4D);
    const out = vit.forwardHidden(nhwc);
    nhwc.dispose();
    try {
      return {
        lastHiddenState: (await out.lastHiddenState.array()) as number[][][],
        hiddenStates: (await Promise.all(out.hiddenStates.map((h) => h.array()))) as number[][][][],
        poolerOutput: (await out.poolerOutput.array()) as number[][],
      };
    } finally {
      tf.dispose([out.lastHiddenState, out.poolerOutput, ...out.hiddenStates]);
    }
  } finally {
    vit.dispose();
  }
}

/** `mllm forward --hf DIR` passes a folder; accept "hf:DIR" too. */
function parseMaybeSpec(dir: string): string {
  return dir.startsWith('hf:') ? parseHfSpec(dir) : dir;
}

function nestedShape(x: unknown): number[] {
  const shape: number[] = [];
  let cur: unknown = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return shape;
}
