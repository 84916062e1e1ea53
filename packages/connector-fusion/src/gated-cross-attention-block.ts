import * as tf from '@tensorflow/tfjs';
import { Attention, LayerNorm, Module, PreNormFeedForward, type Rng } from '@mllm/core';

// Shapes: B batch, T text tokens, S media keys per row, D LLM width.

/**
 * Text queries attend to media keys/values (open_flamingo MaskedCrossAttention). Core's
 * `Attention` already cross-attends when given a context, so this only adds the pre-norm on the
 * text side: `attn.norm`, `attn.{q,k,v,o}_proj` (open_flamingo `to_q`, `to_kv` split row-wise
 * into k then v, `to_out`).
 */
export class MaskedCrossAttention extends Attention {
  readonly norm: LayerNorm;

  constructor(dim: number, heads: number, rng: Rng) {
    // no biases, as open_flamingo's to_q / to_kv / to_out
    super({ dim, numHeads: heads, bias: false }, rng);
    this.norm = this.add('norm', new LayerNorm(dim));
  }

  /** text [B, T, D], media [B, S, D], mask [B, 1, T, S], hasMedia [B, T, 1] -> update [B, T, D]. */
  crossAttend(text: tf.Tensor3D, media: tf.Tensor3D, mask: tf.Tensor4D, hasMedia: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const { out } = this.forward(this.norm.forward(text), { context: media, mask }); // [B, T, D]
      // a position with no image before it has every key masked, so softmax spreads evenly over
      // padding; open_flamingo zeroes those rows (text_without_media_mask), and so does this
      return out.mul(hasMedia) as tf.Tensor3D;
    });
  }
}

/** Media keys of one call, already laid out per row, with the masks of this call's queries. */
export interface CrossAttentionInputs {
  media: tf.Tensor3D;
  mask: tf.Tensor4D;
  hasMedia: tf.Tensor3D;
}

/**
 * Gated cross-attention dense block (Flamingo, arXiv:2204.14198; open_flamingo
 * GatedCrossAttentionBlock): h += tanh(attn_gate) * xattn(h, media); h += tanh(ff_gate) * ff(h).
 * Both gates start at 0, so a frozen LLM computes exactly what it did before training starts.
 */
export class GatedCrossAttentionBlock extends Module {
  readonly attn: MaskedCrossAttention;
  readonly attnGate: tf.Variable;
  readonly ff: PreNormFeedForward;
  readonly ffGate: tf.Variable;

  constructor(config: { dim: number; heads: number; mlpHidden: number }, rng: Rng) {
    super();
    this.attn = this.add('attn', new MaskedCrossAttention(config.dim, config.heads, rng));
    this.attnGate = this.param('attn_gate', tf.zeros([1]));
    this.ff = this.add('ff', new PreNormFeedForward(config.dim, config.mlpHidden, rng));
    this.ffGate = this.param('ff_gate', tf.zeros([1]));
  }

  /** hidden [B, T, D] -> hidden [B, T, D]; without media (no image in the batch) only the feed-forward runs. */
  forward(hidden: tf.Tensor3D, inputs: CrossAttentionInputs | undefined): tf.Tensor3D {
    return tf.tidy(() => {
      let h = hidden;
      if (inputs) h = h.add(this.attn.crossAttend(h, inputs.media, inputs.mask, inputs.hasMedia).mul(tf.tanh(this.attnGate))); // [B, T, D]
      return h.add(this.ff.forward(h).mul(tf.tanh(this.ffGate))) as tf.Tensor3D; // [B, T, D]
    });
  }
}
