import * as tf from '@tensorflow/tfjs';
import { LayerNorm, Linear, Module, ModuleGroup, geluErf, type Rng } from '@mllm/core';
import { QFormerAttention } from './qformer-attention';

export interface QFormerLayerConfig {
  /** Width of the query stream. */
  dim: number;
  /** Width of the encoder features the queries read. */
  encoderDim: number;
  heads: number;
  mlpHidden: number;
}

/**
 * One Q-Former block over the query tokens (BLIP-2, arXiv:2301.12597; HF Blip2QFormerLayer
 * names): self-attention among the queries, cross-attention from the queries to the image
 * features, GELU feed-forward. Shapes: B batch, Q queries, N image tokens, D width.
 *
 * Pre-norm instead of BLIP-2's post-norm (BERT): the residual stream stays an identity path,
 * so the query tokens and the first block get undiminished gradients and training from
 * scratch needs no long learning-rate warm-up (Xiong et al., arXiv:2002.04745). Unlike
 * HF, every block cross-attends (HF's cross_attention_frequency = 1): with 1-2 blocks,
 * skipping one would leave half the connector blind to the image.
 */
export class QFormerLayer extends Module {
  readonly attention: QFormerAttention;
  readonly crossattention: QFormerAttention;
  readonly ffnNorm: LayerNorm;
  readonly intermediate: Linear;
  readonly output: Linear;

  constructor(config: QFormerLayerConfig, rng: Rng) {
    super();
    const { dim, encoderDim, heads, mlpHidden } = config;
    this.attention = this.add('attention', new QFormerAttention(dim, dim, heads, rng));
    this.crossattention = this.add('crossattention', new QFormerAttention(dim, encoderDim, heads, rng));
    this.ffnNorm = new LayerNorm(dim);
    this.intermediate = new Linear(dim, mlpHidden, rng);
    this.add('intermediate_query', new ModuleGroup({ input_layernorm: this.ffnNorm, dense: this.intermediate }));
    this.output = new Linear(mlpHidden, dim, rng);
    this.add('output_query', new ModuleGroup({ dense: this.output }));
  }

  /** queries [B, Q, D], features [B, N, D_enc] -> [B, Q, D]. */
  forward(queries: tf.Tensor3D, features: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      let h = this.attention.forward(queries); // [B, Q, D]
      h = this.crossattention.forward(h, features); // [B, Q, D]
      return h.add(this.output.forward(geluErf(this.intermediate.forward(this.ffnNorm.forward(h))))) as tf.Tensor3D; // [B, Q, D]
    });
  }
}
