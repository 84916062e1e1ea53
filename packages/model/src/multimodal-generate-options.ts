import { z } from 'zod';
import { ConfigError } from '@mllm/core';
import { generateOptionsSchema, type GenerateOptions } from '@mllm/llm';
import { DIFFUSION_STEPS, type DiffusionNoise } from './image-distortion';

/** VCD's distorted image: diffusion noise at `noiseStep` (VCD's 500) drawn from `seed`. */
const imageNoiseSchema = z
  .object({
    noiseStep: z
      .number()
      .int(`must be an integer diffusion step in [0, ${DIFFUSION_STEPS - 1}] (VCD uses 500)`)
      .min(0, `must be an integer diffusion step in [0, ${DIFFUSION_STEPS - 1}] (VCD uses 500)`)
      .max(DIFFUSION_STEPS - 1, `must be an integer diffusion step in [0, ${DIFFUSION_STEPS - 1}] (VCD uses 500)`)
      .default(500),
    seed: z.number().int().min(0).default(0),
  })
  .strict();

/**
 * The in-process hallucination mitigation of a multimodal model's generation, as one schema for
 * every place that takes it (a run config's `eval.decoding`, `mllm eval` flags): VCD
 * (`contrastive` with `imageNoise`) and PAI (`imageAttention`), with the LLM's own bounds and defaults.
 */
export const mitigationSchema = z
  .object({
    contrastive: generateOptionsSchema.shape.contrastive,
    imageNoise: imageNoiseSchema.optional(),
    imageAttention: generateOptionsSchema.shape.imageAttention,
  })
  .strict();

export type MitigationOptions = z.input<typeof mitigationSchema>;

/**
 * Generation options of a multimodal model: the LLM's, plus where VCD's distorted image comes
 * from when `contrastive` is on (alpha > 0).
 */
export type MultimodalGenerateOptions = GenerateOptions & { imageNoise?: z.input<typeof imageNoiseSchema> };

/** The LLM's options and, with VCD on, its resolved noise; a bad `imageNoise` is a ConfigError naming it. */
export function splitGenerateOptions(options: MultimodalGenerateOptions): { llmOptions: GenerateOptions; noise: DiffusionNoise | undefined } {
  const { imageNoise, ...llmOptions } = options;
  const parsed = imageNoiseSchema.safeParse(imageNoise ?? {});
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => ({ path: ['imageNoise', ...i.path].join('.'), message: i.message })), 'Invalid generation options');
  return { llmOptions, noise: (options.contrastive?.alpha ?? 0) > 0 ? parsed.data : undefined };
}

/** PAI boosts attention to image tokens: refused, naming the connector, where none are in the sequence. */
export function checkImageAttention(options: MultimodalGenerateOptions, splicesTokens: boolean, connectorKind: string): void {
  if ((options.imageAttention?.alpha ?? 0) > 0 && !splicesTokens)
    throw new ConfigError(
      [{ path: 'imageAttention', message: `boosts the attention to image tokens, but the ${connectorKind === 'fusion-connector' ? 'fusion ' : ''}connector puts none in the LLM's sequence; use a token connector (mlp, linear, qformer, perceiver)` }],
      'Invalid generation options',
    );
}

/** Per row, the positions of the image tokens `slots` place (`tokens[i]` for image i): PAI's image keys. */
export function imageKeyPositions(rows: number, slots: readonly { row: number; start: number }[], tokens: readonly number[]): number[][] {
  const keys: number[][] = Array.from({ length: rows }, () => []);
  slots.forEach((slot, i) => {
    for (let k = 0; k < tokens[i]!; k++) keys[slot.row]!.push(slot.start + k);
  });
  return keys;
}
