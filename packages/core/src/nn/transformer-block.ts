import * as tf from '@tensorflow/tfjs';
import { Module } from '../module';
import { Attention, type AttentionInputs, type AttentionRouting } from './attention';
import { GeluMLP, SwiGLU } from './mlp';
import { makeNorm, type NormKind, type LayerNorm, type RMSNorm } from './norms';
import { SparseMoeBlock, type MoeOptions, type MoeRouting } from './moe';
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
  /**
   * Feed-forward kind (llama style only): dense SwiGLU (`mlp`, the default) or a sparse MoE
   * of SwiGLU experts of width mlpHidden (`block_sparse_moe`, HF Mixtral names).
   */
  ffn?: { type: 'dense' } | ({ type: 'moe' } & MoeOptions);
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
  /** [B][T] 1 for real query tokens, 0 for padding: an MoE feed-forward routes only real ones. */
  tokenMask?: number[][];
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
    const ffn = config.ffn;
    if (ffn?.type === 'moe') {
      if (!llama || mlp) throw new Error('TransformerBlock: an MoE feed-forward needs style "llama" and no mlp of its own');
      this.mlp = this.add('block_sparse_moe', new SparseMoeBlock(config.dim, config.mlpHidden, ffn, rng));
    } else
      this.mlp = this.add(
        'mlp',
        mlp ?? (llama ? new SwiGLU(config.dim, config.mlpHidden, rng) : new GeluMLP(config.dim, config.mlpHidden, rng)),
      );
  }

  /** `moe`: what the MoE feed-forward's router did (absent for a dense one). */
  forward(x: tf.Tensor3D, inputs: BlockInputs = {}): { out: tf.Tensor3D; present: { key: tf.Tensor4D; value: tf.Tensor4D }; moe?: MoeRouting } {
    const { out: a, present } = this.attn.forward(this.norm1.forward(x), inputs);
    const h = x.add(a) as tf.Tensor3D; // [B, T, D]
    const n = this.norm2.forward(h);
    const routed = this.mlp instanceof SparseMoeBlock ? this.mlp.forwardRouted(n, inputs.tokenMask) : undefined;
    const dense = routed ? routed.out : this.mlp.forward(n); // [B, T, D]
    const routing = inputs.routing;
    // norms stay shared (CogVLM); only the feed-forward is picked per position
    const ff = routing ? dense.mul(routing.textMask).add(routing.mlp(n).mul(routing.imageMask)) : dense;
    return { out: h.add(ff) as tf.Tensor3D, present, ...(routed && { moe: routed.routing }) }; // [B, T, D]
  }
}
