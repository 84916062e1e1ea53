import { ConfigError } from '@mllm/core';
import type { GenerateOptions } from '@mllm/llm';
import { DIFFUSION_STEPS, type DiffusionNoise } from './image-distortion';

/**
 * Generation options of a multimodal model: the LLM's, plus where VCD's distorted image comes
 * from when `contrastive` is on (alpha > 0).
 */
export type MultimodalGenerateOptions = GenerateOptions & {
  /** VCD's distorted image: diffusion noise at `noiseStep` (default 500, VCD's) drawn from `seed` (default 0). */
  imageNoise?: Partial<DiffusionNoise>;
};

export function splitGenerateOptions(options: MultimodalGenerateOptions): { llmOptions: GenerateOptions; noise: DiffusionNoise | undefined } {
  const { imageNoise, ...llmOptions } = options;
  const on = (options.contrastive?.alpha ?? 0) > 0;
  const step = imageNoise?.noiseStep;
  if (step !== undefined && !(Number.isInteger(step) && step >= 0 && step < DIFFUSION_STEPS))
    throw new ConfigError([{ path: 'imageNoise.noiseStep', message: `must be an integer diffusion step in [0, ${DIFFUSION_STEPS - 1}] (VCD uses 500), got ${step}` }], 'Invalid generation options');
  return { llmOptions, noise: on ? { noiseStep: imageNoise?.noiseStep ?? 500, seed: imageNoise?.seed ?? 0 } : undefined };
}
