import * as tf from '@tensorflow/tfjs';
import { Module } from '../module';
import { Attention, type AttentionInputs, type AttentionRouting } from './attention';
import { GeluMLP, SwiGLU } from './mlp';
import { makeNorm, type NormKind, type LayerNorm, type RMSNorm } from './norms';
import type { Rng } from '../rng';

/** HF naming families: Llama (`input_layernorm`, `o_proj`, SwiGLU) or CLIP (`layer_norm1`, `out_proj`, GELU fc1/fc2). */
export type BlockStyle = 'llama' | 'clip';

export interface TransformerBlockConfig {
  dim: number;
  numHeads: number;
  numKvHeads?: number;
  mlpHidden: number;
  style: BlockStyle;
  normEps?: number;
}

/** Anything that maps [B, T, D] -> [B, T, D] in place of the dense MLP (MoE, visual expert). */
export interface FeedForward extends Module {
  forward(x: tf.Tensor3D): tf.Tensor3D;
}

/** Modality routing for a whole block: the image positions' q/k/v (attention) and feed-forward. */
export interface ModalityRouting extends AttentionRouting {
  /** The image positions' feed-forward of x [B, T, D] -> [B, T, D]. */
  mlp(x: tf.Tensor3D): tf.Tensor3D;
}

export interface BlockInputs extends AttentionInputs {
  routing?: ModalityRouting;
}

/** Pre-LN transformer block. Shapes: B batch, T tokens, D width. */
export class TransformerBlock extends Module {
  readonly norm1: LayerNorm | RMSNorm;
  readonly attn: Attention;
  readonly norm2: LayerNorm | RMSNorm;
  readonly mlp: FeedForward;

  constructor(readonly config: TransformerBlockConfig, rng: Rng, mlp?: FeedForward) {
    super();
    const llama = config.style === 'llama';
    const norm: NormKind = llama ? 'rmsnorm' : 'layernorm';
    const eps = config.normEps ?? (llama ? 1e-6 : 1e-5);
    this.norm1 = this.add(llama ? 'input_layernorm' : 'layer_norm1', makeNorm(norm, config.dim, eps));
    this.attn = this.add(
      'self_attn',
      new Attention(
        { dim: config.dim, numHeads: config.numHeads, numKvHeads: config.numKvHeads, bias: !llama, outputName: llama ? 'o_proj' : 'out_proj' },
        rng,
      ),
    );
    this.norm2 = this.add(llama ? 'post_attention_layernorm' : 'layer_norm2', makeNorm(norm, config.dim, eps));
    this.mlp = this.add(
      'mlp',
      mlp ?? (llama ? new SwiGLU(config.dim, config.mlpHidden, rng) : new GeluMLP(config.dim, config.mlpHidden, rng)),
    );
  }

  forward(x: tf.Tensor3D, inputs: BlockInputs = {}): { out: tf.Tensor3D; present: { key: tf.Tensor4D; value: tf.Tensor4D } } {
    const { out: a, present } = this.attn.forward(this.norm1.forward(x), inputs);
    const h = x.add(a) as tf.Tensor3D; // [B, T, D]
    const n = this.norm2.forward(h);
    const routing = inputs.routing;
    // norms stay shared (CogVLM); only the feed-forward is picked per position
    const ff = routing ? this.mlp.forward(n).mul(routing.textMask).add(routing.mlp(n).mul(routing.imageMask)) : this.mlp.forward(n);
    return { out: h.add(ff) as tf.Tensor3D, present }; // [B, T, D]
  }
}
