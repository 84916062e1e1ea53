import { z } from 'zod';
import { ConfigError } from '@mllm/core';

/**
 * A count of learned query tokens (M, the visual tokens per image). The messages name the
 * field because zod's own ("Too small: expected number to be >=1") does not say what it counts.
 */
export function queryCount(field: string, fallback: number) {
  return z
    .number({ error: `${field} must be a number` })
    .int({ error: `${field} must be a whole number` })
    .min(1, { error: `${field} must be >= 1: it is how many visual tokens each image becomes` })
    .default(fallback);
}

/** Fields shared by both query connectors: depth, attention width and heads, feed-forward ratio. */
export const queryBlockFields = {
  layers: z.number().int().min(1, { error: 'layers must be >= 1' }).default(2),
  /** Width of the query stream; omitted, it is the encoder width (as in BLIP-2 and Flamingo, where both are the ViT's). */
  dim: z.number().int().min(1, { error: 'dim must be >= 1' }).optional(),
  /** 4 keeps heads 16 wide at this repo's 64-wide encoders. */
  heads: z.number().int().min(1, { error: 'heads must be >= 1' }).default(4),
  /** Feed-forward hidden width as a multiple of dim (BLIP-2's BERT and open_flamingo both use 4). */
  mlpRatio: z.number().int().min(1, { error: 'mlpRatio must be >= 1' }).default(4),
};

function divisors(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
}

function headsMessage(dim: number, heads: number, what: string, alternative = ''): string {
  return `heads ${heads} must divide ${what} ${dim}; pick heads from ${divisors(dim).join(', ')}${alternative}`;
}

/** zod refinement: an explicit dim must split evenly into heads. */
export function refineHeads(config: { dim?: number | undefined; heads: number }, ctx: z.RefinementCtx): void {
  if (config.dim !== undefined && config.dim % config.heads !== 0)
    ctx.addIssue({ code: 'custom', path: ['heads'], message: headsMessage(config.dim, config.heads, 'dim') });
}

/**
 * The query stream's width: `dim`, else the encoder width. The schema cannot see the encoder,
 * so a default width that `heads` does not divide is reported here, under the model's
 * `connector` slot, before any connector weight is allocated.
 */
export function resolveWidth(config: { dim?: number | undefined; heads: number }, inputDim: number): number {
  const dim = config.dim ?? inputDim;
  if (dim % config.heads !== 0) {
    const message =
      config.dim === undefined
        ? headsMessage(dim, config.heads, 'dim, which defaults to the encoder width,', ', or set connector.dim')
        : headsMessage(dim, config.heads, 'dim');
    throw new ConfigError([{ path: 'connector.heads', message }]);
  }
  return dim;
}
