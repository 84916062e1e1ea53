import { Rng } from '@mllm/core';
import type { ModelImage } from './image-input';

/**
 * The distorted image of Visual Contrastive Decoding (Leng et al. 2024): the forward diffusion
 * process q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I) at step t of 1000, with VCD's
 * schedule (betas = sigmoid(linspace(-6, 6, 1000)) * (5e-3 - 1e-5) + 1e-5). VCD noises the
 * processor's normalised tensor, so the noise is added in the encoder's normalised space
 * ((x - mean) / std) and the result mapped back to the pixels the encoder takes; not clamped.
 */
export const DIFFUSION_STEPS = 1000;

/** sqrt(abar_t) and sqrt(1 - abar_t) at `noiseStep` (0-999) of VCD's schedule. */
export function diffusionScales(noiseStep: number): { signal: number; noise: number } {
  if (!Number.isInteger(noiseStep) || noiseStep < 0 || noiseStep >= DIFFUSION_STEPS)
    throw new RangeError(`noiseStep must be an integer in [0, ${DIFFUSION_STEPS - 1}], got ${noiseStep}`);
  let alphaBar = 1;
  for (let t = 0; t <= noiseStep; t++) {
    const x = -6 + (12 * t) / (DIFFUSION_STEPS - 1);
    const beta = (1 / (1 + Math.exp(-x))) * (0.5e-2 - 1e-5) + 1e-5;
    alphaBar *= 1 - beta;
  }
  return { signal: Math.sqrt(alphaBar), noise: Math.sqrt(1 - alphaBar) };
}

export interface DiffusionNoise {
  /** Diffusion step, 0-999 (VCD: 500; higher is noisier). */
  noiseStep: number;
  /** Seed of the Gaussian noise, so a distorted prompt, and the tokens it leads to, are reproducible. */
  seed: number;
}

/**
 * Each image noised as VCD does, in the space (x - mean) / std of `normalization` (identity when
 * absent). Image i draws from `seed` forked by its index, so a batch's order does not change an
 * image's noise.
 */
export function diffusionNoised(images: readonly ModelImage[], { noiseStep, seed }: DiffusionNoise, normalization?: { mean: readonly number[]; std: readonly number[] }): ModelImage[] {
  const { signal, noise } = diffusionScales(noiseStep);
  const mean = normalization?.mean ?? [0, 0, 0];
  const std = normalization?.std ?? [1, 1, 1];
  const rng = new Rng(seed);
  return images.map((image, i) => {
    const pixels = image instanceof Float32Array ? image : image.pixels;
    const draw = rng.fork(`image:${i}`);
    const out = new Float32Array(pixels.length);
    for (let k = 0; k < pixels.length; k++) {
      const c = k % 3;
      // normalised z = (x - m) / s  ->  signal * z + noise * eps  ->  back to x
      out[k] = mean[c]! + signal * (pixels[k]! - mean[c]!) + std[c]! * noise * draw.normal();
    }
    return image instanceof Float32Array ? out : { ...image, pixels: out };
  });
}
