import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildModel, createComponentRegistry, type MultimodalModel } from '@mllm/model';

export const IMAGE = 4;
export const PAD = 0;
export const VOCAB = 24;
export const IMAGE_SIZE = 8;

/** A tiny LLaVA-shaped model (ViT + MLP projector + GQA causal LM) with random weights. */
export function tinyModel(overrides: Record<string, unknown> = {}, seed = 1): MultimodalModel {
  const config = {
    encoder: { type: 'vit', imageSize: IMAGE_SIZE, patchSize: 4, dim: 8, layers: 2, heads: 2 },
    connector: { type: 'mlp' },
    llm: { type: 'causal', dim: 16, layers: 2, heads: 4, kvHeads: 2 },
    ...overrides,
  };
  return sharpen(buildModel(config, { registry: createComponentRegistry(), vocabSize: VOCAB, special: { imageTokenId: IMAGE, padId: PAD }, seed }), seed);
}

/**
 * Redraws every weight matrix (and adapter gate) with std 0.5 (norm weights, 1-D, stay): freshly initialised
 * logits are nearly flat, so greedy decoding repeats one token whatever the input; these
 * make every token and the image matter, which a parity test needs to mean anything.
 */
export function sharpen<T extends MultimodalModel>(model: T, seed: number): T {
  model.namedParameters().forEach(([name, p], i) => {
    // adapter and Flamingo gates start at 0 (the fusion adds nothing): open them too
    if (p.shape.length >= 2 || /(adaption|attn|ff)_gate$/.test(name)) p.assign(tf.randomNormal(p.shape, 0, 0.5, 'float32', seed * 1000 + i));
  });
  return model;
}

/** An image whose pixels are k / 255 (what an 8-bit PNG decodes to). */
export function testImage(seed: number, size = IMAGE_SIZE): Float32Array {
  const out = new Float32Array(size * size * 3);
  let s = seed * 7919 + 13;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s % 256) / 255;
  }
  return out;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The packages `@mllm/onnx/runtime` imports besides onnxruntime (npm installs them with @mllm/onnx). */
export const RUNTIME_DEPENDENCIES = ['zod', 'onnx-proto'] as const;

/** Links this repository's copies of RUNTIME_DEPENDENCIES into `app`/node_modules, as an install of @mllm/onnx places them. */
export function linkRuntimeDependencies(app: string): void {
  const require = createRequire(import.meta.url);
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  for (const name of RUNTIME_DEPENDENCIES) {
    // the package folder: up from its entry to the package.json that names it (exports may hide package.json)
    let dir = dirname(require.resolve(name));
    while (!(existsSync(join(dir, 'package.json')) && JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name === name)) dir = dirname(dir);
    symlinkSync(realpathSync(dir), join(app, 'node_modules', name), 'dir');
  }
}
