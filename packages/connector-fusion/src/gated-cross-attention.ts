import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import {
  ConfigError,
  Linear,
  Module,
  ModuleGroup,
  type FusionConnector,
  type FusionPoint,
  type FusionStep,
  type LayerFusion,
  type MediaSlot,
  type Rng,
} from '@mllm/core';
import { GatedCrossAttentionBlock } from './gated-cross-attention-block';
import { MediaLayout, placeMedia } from './media-layout';

// Shapes: B batch, T text tokens, I images in the batch, N feature tokens per image, D LLM width.

export const gatedCrossAttentionSchema = z
  .object({
    type: z.literal('gated-cross-attention'),
    /** A block before every k-th decoder layer (open_flamingo cross_attn_every_n_layers); 1 = before each one. */
    every: z
      .number({ error: 'every must be a number' })
      .int({ error: 'every must be a whole number' })
      .min(1, { error: 'every must be >= 1: a cross-attention block goes before every k-th decoder layer' })
      .default(1),
    /** 4 keeps heads 24 wide at the default 96-wide LLM; must divide the LLM width. */
    heads: z.number().int().min(1, { error: 'heads must be >= 1' }).default(4),
    /** Feed-forward hidden width as a multiple of the LLM width (open_flamingo ff_mult = 4). */
    mlpRatio: z.number().int().min(1, { error: 'mlpRatio must be >= 1' }).default(4),
  })
  .strict();

export type GatedCrossAttentionConfig = z.output<typeof gatedCrossAttentionSchema>;

/** Decoder layers that get a block, open_flamingo's rule: (layer + 1) % every === 0. */
export function crossAttentionLayers(every: number, llmLayers: number): number[] {
  return Array.from({ length: llmLayers }, (_, i) => i).filter((i) => (i + 1) % every === 0);
}

/**
 * Flamingo's fusion connector (arXiv:2204.14198): encoder features are projected to the LLM
 * width once (`media_proj`), then gated cross-attention blocks (`gated_cross_attn_layers.<i>`,
 * keyed by the decoder layer they precede) add what each text position reads from the image
 * before it. The token sequence is untouched: `<image>` stays one text token marking the image.
 */
export class GatedCrossAttention extends Module implements FusionConnector {
  readonly kind = 'fusion-connector' as const;
  readonly requires: readonly FusionPoint[] = ['before-layer'];
  readonly mediaProj: Linear;
  /** Blocks by the decoder layer they run before. */
  readonly blocks: ReadonlyMap<number, GatedCrossAttentionBlock>;

  constructor(readonly config: GatedCrossAttentionConfig, inputDim: number, outputDim: number, llmLayers: number, rng: Rng) {
    super();
    const layers = crossAttentionLayers(config.every, llmLayers);
    if (layers.length === 0)
      throw new ConfigError([
        { path: 'connector.every', message: `every ${config.every} is more than the LLM's ${llmLayers} decoder layers, so no block would be inserted; use 1..${llmLayers}` },
      ]);
    if (outputDim % config.heads !== 0)
      throw new ConfigError([{ path: 'connector.heads', message: `heads ${config.heads} must divide the LLM width ${outputDim}` }]);
    this.mediaProj = this.add('media_proj', new Linear(inputDim, outputDim, rng));
    const mlpHidden = outputDim * config.mlpRatio;
    this.blocks = new Map(layers.map((i) => [i, new GatedCrossAttentionBlock({ dim: outputDim, heads: config.heads, mlpHidden }, rng.fork(`layer${i}`))]));
    this.add('gated_cross_attn_layers', new ModuleGroup(Object.fromEntries([...this.blocks].map(([i, b]) => [String(i), b]))));
  }

  /**
   * features [I, N, D_enc] in slot order -> hooks for one LLM forward or one generation. The
   * media keys are projected and laid out here, once; call `dispose` when done with them
   * (inside a `tf.tidy` the tidy frees them too).
   */
  bind(features: tf.Tensor3D, slots: readonly MediaSlot[], batchSize: number): LayerFusion {
    if (features.shape[0] !== slots.length) throw new Error(`gated cross-attention: ${features.shape[0]} images but ${slots.length} slots`);
    const layout = new MediaLayout(slots, batchSize, features.shape[1]);
    const media = slots.length ? tf.tidy(() => placeMedia(this.mediaProj.forward(features), layout)) : undefined; // [B, S, D]
    return {
      beforeLayer: (layer: number, hidden: tf.Tensor3D, step: FusionStep): tf.Tensor3D => {
        const block = this.blocks.get(layer);
        if (!block) return hidden;
        if (hidden.shape[0] !== batchSize) throw new Error(`gated cross-attention: bound to ${batchSize} rows, called with ${hidden.shape[0]}`);
        return tf.tidy(() => {
          const inputs = media ? { media, ...layout.masks(step.past, hidden.shape[1]) } : undefined;
          return block.forward(hidden, inputs); // [B, T, D]
        });
      },
      dispose: () => media?.dispose(),
    };
  }
}
