import type { z } from 'zod';
import { causalLmSchema } from './causal-lm';

/**
 * The causal LM's options (widths, heads, RoPE, feed-forward) without its type key, for the
 * backbones built from the same parts: `.safeExtend({ type: z.literal(...) })` keeps its
 * strictness and its refinements. The cast only drops `type` from the static shape; zod's typing
 * refuses to overwrite a key that refinements might read, and these refinements never read `type`.
 */
export const causalOptionsSchema = causalLmSchema as unknown as z.ZodObject<Omit<(typeof causalLmSchema)['shape'], 'type'>, z.core.$strict>;
