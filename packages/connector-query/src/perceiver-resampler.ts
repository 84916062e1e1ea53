import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { LayerNorm, Linear, Module, ModuleList, normalInit, type Rng, type TokenConnector } from '@mllm/core';
import { PerceiverLayer } from './perceiver-layer';
import { queryBlockFields, queryCount, refineHeads, resolveWidth } from './query-config';

export const perceiverSchema = z
  .object({
    type: z.literal('perceiver'),
    /** Flamingo resamples every image to 64 latents. */
    numLatents: queryCount('numLatents', 64),
    ...queryBlockFields,
  })
  .strict()
  .superRefine(refineHeads);

export type PerceiverConfig = z.output<typeof perceiverSchema>;

/**
 * Perceiver resampler: learned latents cross-attend to image tokens. Flamingo, arXiv:2204.14198;
 * names follow open_flamingo's PerceiverResampler (`latents`, `layers.N.0`, `layers.N.1`, `norm`).
 * Flamingo feeds the latents to gated cross-attention; here a Linear (`language_projection`)
 * maps them to the LLM width so they are spliced as tokens: [B, N, D_enc] -> [B, L, D_llm].
 */
export class PerceiverResampler extends Module implements TokenConnector {
  readonly kind = 'token-connector' as const;
  readonly dim: number;
  readonly latents: tf.Variable;
  readonly mediaProj?: Linear;
  readonly layers: PerceiverLayer[];
  readonly norm: LayerNorm;
  readonly languageProjection: Linear;

  constructor(readonly config: PerceiverConfig, inputDim: number, outputDim: number, rng: Rng) {
    super();
    this.dim = resolveWidth(config, inputDim);
    // open_flamingo draws the latents from N(0, 1) ([L, D]); norm_latents rescales them anyway
    this.latents = this.param('latents', normalInit(rng, [config.numLatents, this.dim], 1));
    // media and latents are concatenated as keys/values, so they must share a width: a width
    // other than the encoder's needs the media projected first (as Idefics2's modality projection)
    if (this.dim !== inputDim) this.mediaProj = this.add('media_proj', new Linear(inputDim, this.dim, rng));
    this.layers = Array.from({ length: config.layers }, () => new PerceiverLayer({ dim: this.dim, heads: config.heads, mlpHidden: this.dim * config.mlpRatio }, rng));
    this.add('layers', new ModuleList(this.layers));
    this.norm = this.add('norm', new LayerNorm(this.dim));
    this.languageProjection = this.add('language_projection', new Linear(this.dim, outputDim, rng));
  }

  outputTokens(_inputTokens: number): number {
    return this.config.numLatents;
  }

  forward(features: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const media = this.mediaProj ? this.mediaProj.forward(features) : features; // [B, N, D]
      let latents = this.latents.expandDims(0).tile([features.shape[0], 1, 1]) as tf.Tensor3D; // [B, L, D]
      for (const layer of this.layers) latents = layer.forward(media, latents); // [B, L, D]
      return this.languageProjection.forward(this.norm.forward(latents)); // [B, L, D_llm]
    });
  }
}
