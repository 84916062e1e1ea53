import * as tf from '@tensorflow/tfjs';
import { Attention, LayerNorm, Module, PreNormFeedForward, type Rng } from '@mllm/core';

// Shapes: B batch, N media (image) tokens, L latents, D width.

/**
 * Latents attend to the media and to themselves (open_flamingo PerceiverAttention): queries
 * from the latents only, keys/values from concat(media, latents), each side normalised by
 * its own LayerNorm. Core's `Attention` fits as is (the context is D wide), so its
 * projections are `attn.q_proj|k_proj|v_proj|o_proj`; open_flamingo's `to_q`, `to_out` map
 * one to one and its fused `to_kv` splits row-wise into `k_proj` then `v_proj`.
 */
export class PerceiverAttention extends Module {
  readonly normMedia: LayerNorm;
  readonly normLatents: LayerNorm;
  readonly attn: Attention;

  constructor(dim: number, heads: number, rng: Rng) {
    super();
    this.normMedia = this.add('norm_media', new LayerNorm(dim));
    this.normLatents = this.add('norm_latents', new LayerNorm(dim));
    // no biases, as open_flamingo's to_q/to_kv/to_out
    this.attn = this.add('attn', new Attention({ dim, numHeads: heads, bias: false }, rng));
  }

  /** media [B, N, D], latents [B, L, D] -> update for the latents [B, L, D] (no residual). */
  forward(media: tf.Tensor3D, latents: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const m = this.normMedia.forward(media); // [B, N, D]
      const l = this.normLatents.forward(latents); // [B, L, D]
      // the latents are keys/values too, so a latent can keep what earlier blocks gathered
      const context = tf.concat([m, l], 1) as tf.Tensor3D; // [B, N+L, D]
      return this.attn.forward(l, { context }).out; // [B, L, D]
    });
  }
}

/** One resampler block, open_flamingo's ModuleList([PerceiverAttention, FeedForward]): `0` attention, `1` feed-forward. */
export class PerceiverLayer extends Module {
  readonly attention: PerceiverAttention;
  readonly feedForward: PreNormFeedForward;

  constructor(config: { dim: number; heads: number; mlpHidden: number }, rng: Rng) {
    super();
    this.attention = this.add('0', new PerceiverAttention(config.dim, config.heads, rng));
    this.feedForward = this.add('1', new PreNormFeedForward(config.dim, config.mlpHidden, rng));
  }

  /** media [B, N, D], latents [B, L, D] -> latents [B, L, D]. */
  forward(media: tf.Tensor3D, latents: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const h = latents.add(this.attention.forward(media, latents)) as tf.Tensor3D; // [B, L, D]
      return h.add(this.feedForward.forward(h)) as tf.Tensor3D; // [B, L, D]
    });
  }
}
