import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, MllmError, loadHfFolder } from '@mllm/core';
import { writeFileAtomic } from '@mllm/core/internal';
import { HF_VISION_MODEL_TYPES, forwardHfVision } from '@mllm/encoders';
import { loadHfCausalLm } from '@mllm/llm';

/**
 * `mllm forward --hf DIR --input IN.json --output OUT.json`: runs an HF checkpoint once and
 * writes what transformers' forward returns, as plain JSON numbers, to compare against it.
 * A causal LM reads `{ inputIds }` and writes `{ logits: [batch][seq][vocab] }`; a vision tower
 * reads `{ pixelValues: [batch][channels][height][width] }` (already normalised).
 */
export async function forwardHf(dir: string, inputPath: string, outputPath: string): Promise<{ kind: 'causal-lm' | 'vision'; shape: number[] }> {
  const config = await readHfConfig(dir);
  const input = await readInput(inputPath);
  if (isVision(config)) {
    const pixelValues = input.pixelValues;
    if (!isRectangular(pixelValues, 4)) throw new MllmError(`${inputPath}: a vision model needs "pixelValues": [batch][channels][height][width] numbers`);
    const out = await forwardHfVision(dir, pixelValues as number[][][][]);
    await writeFileAtomic(outputPath, JSON.stringify(out));
    return { kind: 'vision', shape: shapeOf(out.lastHiddenState) };
  }
  const ids = input.inputIds;
  if (!isRectangular(ids, 2) || !(ids as number[][]).flat().every((v) => Number.isInteger(v)))
    throw new MllmError(`${inputPath}: a causal LM needs "inputIds": [[...], ...] integers, every row the same length`);
  const rows = ids as number[][];
  const folder = await loadHfFolder(dir);
  const { model, spec } = await loadHfCausalLm(folder);
  for (const t of Object.values(folder.tensors)) t.dispose();
  try {
    const bad = rows.flat().find((v) => v < 0 || v >= spec.vocabSize);
    if (bad !== undefined) throw new MllmError(`${inputPath}: token id ${bad} is outside the vocabulary [0, ${spec.vocabSize})`);
    const length = rows[0]!.length;
    if (spec.slidingWindow !== undefined && length > spec.slidingWindow)
      throw new MllmError(`${inputPath}: ${length} tokens exceed the checkpoint's sliding_window ${spec.slidingWindow}, which is not implemented; pass at most ${spec.slidingWindow}`);
    const mask = input.attentionMask;
    if (mask !== undefined && !(isRectangular(mask, 2) && (mask as number[][]).length === rows.length && (mask as number[][])[0]!.length === length))
      throw new MllmError(`${inputPath}: "attentionMask" must have the shape of inputIds`);
    // transformers' forward numbers positions 0..T-1 whatever the mask (only generate derives them from it)
    const positions = rows.map(() => Array.from({ length }, (_, i) => i));
    const logits = tf.tidy(() => model.forward(model.embed(tf.tensor2d(rows, [rows.length, length], 'int32')), { positions, attentionMask: mask as number[][] | undefined }).logits);
    const values = (await logits.array()) as number[][][];
    logits.dispose();
    await writeFileAtomic(outputPath, JSON.stringify({ logits: values }));
    return { kind: 'causal-lm', shape: [rows.length, length, model.vocabSize] };
  } finally {
    model.dispose();
  }
}

async function readHfConfig(dir: string): Promise<Record<string, unknown>> {
  const path = join(dir, 'config.json');
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(path, code === 'ENOENT' ? 'not found; --hf takes a HuggingFace model folder (config.json + model.safetensors)' : `cannot be read (${(e as Error).message})`);
  }
}

async function readInput(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new MllmError(`${path}: ${code === 'ENOENT' ? 'input file not found' : code === 'EISDIR' ? 'is a folder; --input takes a JSON file' : `cannot be read (${code ?? (e as Error).message})`}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new MllmError(`${path}: is not valid JSON (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new MllmError(`${path}: must hold a JSON object ({ "inputIds": ... } or { "pixelValues": ... })`);
  return raw as Record<string, unknown>;
}

function isVision(config: Record<string, unknown>): boolean {
  if ((HF_VISION_MODEL_TYPES as readonly string[]).includes(String(config.model_type))) return true;
  const archs = Array.isArray(config.architectures) ? (config.architectures as unknown[]) : [];
  return archs.some((a) => typeof a === 'string' && /^(CLIP|Siglip)(Vision)?Model$/.test(a));
}

/** A nested array of numbers, `depth` deep, every level the same length across siblings. */
function isRectangular(v: unknown, depth: number): boolean {
  const shape: number[] = [];
  const walk = (x: unknown, level: number): boolean => {
    if (level === depth) return typeof x === 'number' && Number.isFinite(x);
    if (!Array.isArray(x) || x.length === 0) return false;
    if (shape[level] === undefined) shape[level] = x.length;
    else if (shape[level] !== x.length) return false;
    return x.every((y) => walk(y, level + 1));
  };
  return walk(v, 0);
}

function shapeOf(v: unknown): number[] {
  const shape: number[] = [];
  for (let x = v; Array.isArray(x); x = x[0]) shape.push(x.length);
  return shape;
}
