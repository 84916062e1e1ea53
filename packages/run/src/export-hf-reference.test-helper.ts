import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { MultimodalModel } from '@mllm/model';
import type { VisionTransformer } from '@mllm/encoders';

const SCRIPT = new URL('../../../tools/reference/llava_forward.py', import.meta.url).pathname;

/**
 * A python3 that imports torch (Debian's python3-torch), or why there is none. MLLM_TORCH_PYTHON
 * names one; else `python3` on PATH, then /usr/bin/python3 (a pyenv shim on PATH may hide
 * Debian's interpreter).
 */
export function torchPython(): { python?: string; reason: string } {
  const candidates = [process.env.MLLM_TORCH_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (probe.status === 0) return { python, reason: '' };
  }
  return { reason: `no python3 with torch and numpy (tried ${candidates.join(', ')}); apt-get install python3-torch python3-numpy, or set MLLM_TORCH_PYTHON` };
}

export interface ReferenceInput {
  inputIds: number[][];
  /** One HWC RGB image in [0, 1] per image-token run, in the order the runs appear. */
  images: Float32Array[];
}

/** HWC pixels in [0, 1] -> the CHW pixel_values LlavaProcessor hands the model: (x - mean) / std. */
export function pixelValues(vit: VisionTransformer, image: Float32Array): number[][][] {
  const { imageSize: s, pixelMean, pixelStd } = vit.config;
  return [0, 1, 2].map((c) => Array.from({ length: s }, (_, y) => Array.from({ length: s }, (_, x) => (image[(y * s + x) * 3 + c]! - pixelMean[c]!) / pixelStd[c]!)));
}

/** Logits [B][T][V] of tools/reference/llava_forward.py on an exported folder. */
export function referenceLogits(python: string, dir: string, vit: VisionTransformer, input: ReferenceInput): number[][][] {
  const tmp = mkdtempSync(join(tmpdir(), 'llava-ref-'));
  const inPath = join(tmp, 'in.json');
  const outPath = join(tmp, 'out.json');
  writeFileSync(inPath, JSON.stringify({ input_ids: input.inputIds, pixel_values: input.images.map((im) => pixelValues(vit, im)) }));
  const run = spawnSync(python, [SCRIPT, dir, inPath, '--output', outPath], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`llava_forward.py failed (${run.status}): ${run.stderr}`);
  return (JSON.parse(readFileSync(outPath, 'utf8')) as { logits: number[][][] }).logits;
}

/** Where each image's tokens start: every M image ids in a row are one image (as batching expands `<image>`). */
export function imageSlots(inputIds: number[][], imageTokenId: number, tokensPerImage: number): { row: number; start: number }[] {
  const slots: { row: number; start: number }[] = [];
  inputIds.forEach((row, r) => {
    for (let i = 0; i < row.length; i++) {
      if (row[i] !== imageTokenId) continue;
      for (let j = 0; j < tokensPerImage; j++) if (row[i + j] !== imageTokenId) throw new Error(`row ${r}: an image run at ${i} is shorter than ${tokensPerImage}`);
      slots.push({ row: r, start: i });
      i += tokensPerImage - 1;
    }
  });
  return slots;
}

/** This project's logits [B][T][V] for the same ids and images. */
export function ourLogits(model: MultimodalModel, input: ReferenceInput): number[][][] {
  const slots = imageSlots(input.inputIds, model.special.imageTokenId, model.tokensPerImage);
  const attentionMask = input.inputIds.map((row) => row.map(() => 1));
  const logits = model.forward({ inputIds: input.inputIds, images: input.images, slots, attentionMask });
  const out = logits.arraySync() as number[][][];
  logits.dispose();
  return out;
}

export function maxAbsDiff(a: number[][][], b: number[][][]): number {
  let max = 0;
  a.forEach((row, i) => row.forEach((v, j) => v.forEach((x, k) => (max = Math.max(max, Math.abs(x - b[i]![j]![k]!))))));
  return max;
}

/** Adds seeded noise to every parameter, so biases, norms and embeddings all differ from their initial values. */
export function perturb(model: MultimodalModel, std = 0.2): void {
  model.namedParameters().forEach(([, p], i) => {
    const next = tf.tidy(() => p.add(tf.randomNormal(p.shape, 0, std, 'float32', 1000 + i)));
    p.assign(next);
    next.dispose();
  });
}
