import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { LayerNorm, Linear, Module, geluErf, type Rng, type TokenConnector } from '@mllm/core';

export const mlpProjectorSchema = z
  .object({
    type: z.literal('mlp'),
    /** Linear layers; LLaVA-1.5's `mlp2x_gelu` is 2. */
    depth: z.number().int().min(1).default(2),
    /**
     * LayerNorm over the encoder features before the first layer (InternVL's `mlp1`, which
     * normalises its pixel-shuffled, 4x wider tokens): merged tokens are far larger than
     * single-patch features, and without it they reach the LLM dwarfing the text embeddings.
     */
    inputNorm: z.boolean().default(false),
  })
  .strict();

/** The parsed config; `inputNorm` may be left out when building one by hand. */
export type MlpProjectorConfig = Omit<z.output<typeof mlpProjectorSchema>, 'inputNorm'> & { inputNorm?: boolean };

/**
 * Linear-GELU-Linear projector (LLaVA-1.5, arXiv:2310.03744). Parameter names follow
 * HF LlavaMultiModalProjector for depth 2 (`linear_1`, `linear_2`); the optional input norm is `norm`.
 */
export class MlpProjector extends Module implements TokenConnector {
  readonly kind = 'token-connector' as const;
  readonly layers: Linear[];
  readonly inputNorm?: LayerNorm;

  constructor(config: MlpProjectorConfig, inputDim: number, outputDim: number, rng: Rng) {
    super();
    if (config.inputNorm) this.inputNorm = this.add('norm', new LayerNorm(inputDim));
    this.layers = Array.from({ length: config.depth }, (_, i) => {
      const layer = new Linear(i === 0 ? inputDim : outputDim, outputDim, rng);
      return this.add(`linear_${i + 1}`, layer);
    });
  }

  outputTokens(inputTokens: number): number {
    return inputTokens;
  }

  forward(features: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      let h = this.inputNorm ? this.inputNorm.forward(features) : features; // [B, N, D_enc]
      this.layers.forEach((layer, i) => {
        h = layer.forward(h); // [B, N, D_llm]
        if (i < this.layers.length - 1) h = geluErf(h);
      });
      return h;
    });
  }
}

