import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { LmForwardOptions, Rng } from '@mllm/core';
import { CausalLM } from './causal-lm';
import { causalOptionsSchema } from './backbone-options';

/** The causal LM's options (widths, heads, RoPE, feed-forward) with its own type key. */
export const prefixLmSchema = causalOptionsSchema.safeExtend({ type: z.literal('prefix') });

export type PrefixLmConfig = z.output<typeof prefixLmSchema>;

/**
 * Prefix LM: the LLaMA-style decoder with bidirectional attention over each row's prefix (image
 * tokens and instruction, everything before the first trained token) and causal attention after
 * it. GLM (Du et al., arXiv:2103.10360), U-PaLM (Tay et al., arXiv:2210.11399); the survey's
 * "prefix decoder". Same parameters and HF names as `causal`, so a LLaMA checkpoint loads into it.
 *
 * `LmForwardOptions.prefixLengths` come from the batch (`MultimodalModel` passes them, since
 * `needsPrefix`); absent, the prefix is empty and the model is exactly the causal LM. A prompt's
 * last token never sees the first response token (it is its target), so training and decoding
 * see the same mask: KV-cache decoding after a prefix prefill is causal, as a recompute is.
 */
export class PrefixLM extends CausalLM {
  readonly needsPrefix = true;

  constructor(readonly prefixConfig: PrefixLmConfig, vocabSize: number, rng: Rng) {
    super({ ...prefixConfig, type: 'causal' }, vocabSize, rng);
  }

  override forward(embeds: tf.Tensor3D, options: LmForwardOptions = {}): ReturnType<CausalLM['forward']> {
    return super.forward(embeds, { ...options, pattern: 'prefix' });
  }
}
