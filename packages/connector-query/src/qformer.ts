import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { LayerNorm, Linear, Module, ModuleGroup, ModuleList, normalInit, type Rng, type TokenConnector } from '@mllm/core';
import { QFormerLayer } from './qformer-layer';
import { queryBlockFields, queryCount, refineHeads, resolveWidth } from './query-config';

export const qformerSchema = z
  .object({
    type: z.literal('qformer'),
    /** BLIP-2 uses 32 queries: each image becomes 32 LLM tokens whatever its patch count. */
    numQueries: queryCount('numQueries', 32),
    ...queryBlockFields,
  })
  .strict()
  .superRefine(refineHeads);

export type QFormerConfig = z.output<typeof qformerSchema>;

/**
 * Q-Former connector (BLIP-2, arXiv:2301.12597): learned query tokens read the image
 * features through cross-attention, then a Linear maps them to the LLM width.
 * [B, N, D_enc] -> [B, Q, D_llm] for any N. Names follow HF Blip2ForConditionalGeneration
 * (`query_tokens`, `qformer.encoder.layer.N...`, `language_projection`); see QFormerLayer
 * for where this simplified, pre-norm version departs from it.
 */
export class QFormer extends Module implements TokenConnector {
  readonly kind = 'token-connector' as const;
  readonly dim: number;
  readonly queryTokens: tf.Variable;
  readonly lnVision: LayerNorm;
  readonly inputNorm: LayerNorm;
  readonly layers: QFormerLayer[];
  readonly finalNorm: LayerNorm;
  readonly languageProjection: Linear;

  constructor(readonly config: QFormerConfig, inputDim: number, outputDim: number, rng: Rng) {
    super();
    this.dim = resolveWidth(config, inputDim);
    // HF initialises query_tokens N(0, 0.02) ([1, Q, D], as its checkpoints store them)
    this.queryTokens = this.param('query_tokens', normalInit(rng, [1, config.numQueries, this.dim], 0.02));
    // BLIP-2 normalises the image features once before the Q-Former (LAVIS `ln_vision`): pre-norm
    // blocks normalise only the queries, so cross-attention keys would otherwise scale with
    // whatever the encoder emits (here un-normalised penultimate-layer ViT features)
    this.lnVision = this.add('ln_vision', new LayerNorm(inputDim));
    // HF's `qformer.layernorm` on the query tokens, kept in pre-norm: it starts the residual
    // stream at unit scale. Left bare, N(0, 0.02) tokens are swamped by the first block's output
    // and training from scratch crawls: on a small fitting task, the loss after 60 Adam steps
    // was 0.42 without it and 0.021 with it
    this.inputNorm = new LayerNorm(this.dim);
    this.layers = Array.from(
      { length: config.layers },
      () => new QFormerLayer({ dim: this.dim, encoderDim: inputDim, heads: config.heads, mlpHidden: this.dim * config.mlpRatio }, rng),
    );
    // pre-norm leaves the residual stream un-normalised, so a last LayerNorm precedes the projection
    this.finalNorm = new LayerNorm(this.dim);
    this.add(
      'qformer',
      new ModuleGroup({ layernorm: this.inputNorm, encoder: new ModuleGroup({ layer: new ModuleList(this.layers) }), final_layernorm: this.finalNorm }),
    );
    this.languageProjection = this.add('language_projection', new Linear(this.dim, outputDim, rng));
  }

  outputTokens(_inputTokens: number): number {
    return this.config.numQueries;
  }

  forward(features: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const context = this.lnVision.forward(features); // [B, N, D_enc]
      let h = this.inputNorm.forward(this.queryTokens).tile([features.shape[0], 1, 1]) as tf.Tensor3D; // [B, Q, D]
      for (const layer of this.layers) h = layer.forward(h, context); // [B, Q, D]
      return this.languageProjection.forward(this.finalNorm.forward(h)); // [B, Q, D_llm]
    });
  }
}
