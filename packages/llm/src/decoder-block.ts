import * as tf from '@tensorflow/tfjs';
import {
  Attention,
  Linear,
  Module,
  RMSNorm,
  SparseMoeBlock,
  SwiGLU,
  batchMatMul,
  batchMatMulNT,
  type AttentionInputs,
  type FeedForward,
  type MoeRouting,
  type Rng,
} from '@mllm/core';
import type { FfnConfig } from './causal-lm';

/**
 * Shapes: B batch, T decoder tokens, S encoder tokens, D width, H heads, Hkv key/value heads,
 * dh head width.
 */

/** Cross-attention keys/values of one decoder layer, projected once from the encoder output. */
export interface CrossKeyValues {
  key: tf.Tensor4D; // [B, Hkv, S, dh]
  value: tf.Tensor4D; // [B, Hkv, S, dh]
}

/**
 * Decoder-to-encoder attention (T5's EncDecAttention, BART's `encoder_attn`): queries from the
 * decoder, keys and values from the encoder output, no positions (T5 adds no position bias here
 * either). Keys/values come in through `project`, so generation computes them once at prefill.
 */
export class CrossAttention extends Module {
  readonly headDim: number;
  readonly numKvHeads: number;
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;

  constructor(readonly dim: number, readonly numHeads: number, numKvHeads: number | undefined, rng: Rng) {
    super();
    this.numKvHeads = numKvHeads ?? numHeads;
    this.headDim = dim / numHeads;
    const kvDim = this.numKvHeads * this.headDim;
    this.q = this.add('q_proj', new Linear(dim, dim, rng, { bias: false }));
    this.k = this.add('k_proj', new Linear(dim, kvDim, rng, { bias: false }));
    this.v = this.add('v_proj', new Linear(dim, kvDim, rng, { bias: false }));
    this.o = this.add('o_proj', new Linear(dim, dim, rng, { bias: false }));
  }

  private heads(x: tf.Tensor3D, n: number): tf.Tensor4D {
    const [b, t] = x.shape;
    return x.reshape([b, t, n, this.headDim]).transpose([0, 2, 1, 3]) as tf.Tensor4D; // [B, n, T, dh]
  }

  /** encoder output [B, S, D] -> keys and values [B, Hkv, S, dh]. */
  project(encoded: tf.Tensor3D): CrossKeyValues {
    return { key: this.heads(this.k.forward(encoded), this.numKvHeads), value: this.heads(this.v.forward(encoded), this.numKvHeads) };
  }

  /** x [B, T, D], the encoder's keys/values and an additive mask [B, 1, T, S] -> [B, T, D]. */
  forward(x: tf.Tensor3D, kv: CrossKeyValues, mask: tf.Tensor4D): tf.Tensor3D {
    const [b, t, d] = x.shape;
    const h = this.numHeads;
    const dh = this.headDim;
    const s = kv.key.shape[2];
    const groups = h / this.numKvHeads;
    const q = this.heads(this.q.forward(x), h).reshape([b * h, t, dh]) as tf.Tensor3D; // [B*H, T, dh]
    const k = repeatKv(kv.key, groups).reshape([b * h, s, dh]) as tf.Tensor3D; // [B*H, S, dh]
    const v = repeatKv(kv.value, groups).reshape([b * h, s, dh]) as tf.Tensor3D;
    const scores = batchMatMulNT(q, k).reshape([b, h, t, s]).mul(1 / Math.sqrt(dh)); // [B, H, T, S]
    const probs = tf.softmax(scores.add(mask)).reshape([b * h, t, s]) as tf.Tensor3D;
    const ctx = batchMatMul(probs, v); // [B*H, T, dh]
    const merged = ctx.reshape([b, h, t, dh]).transpose([0, 2, 1, 3]).reshape([b, t, d]) as tf.Tensor3D;
    return this.o.forward(merged);
  }
}

/** [B, Hkv, S, dh] -> [B, Hkv * groups, S, dh] (HF repeat_kv); a rank-3 tile, which has a gradient on every backend. */
function repeatKv(x: tf.Tensor4D, groups: number): tf.Tensor4D {
  if (groups === 1) return x;
  const [b, hkv, s, dh] = x.shape;
  return x.reshape([b * hkv, 1, s * dh]).tile([1, groups, 1]).reshape([b, hkv * groups, s, dh]) as tf.Tensor4D;
}

export interface DecoderBlockInputs {
  /** Self-attention: causal mask, RoPE and cached keys/values (see `AttentionInputs`). */
  self: Pick<AttentionInputs, 'mask' | 'rope' | 'past'>;
  cross: CrossKeyValues;
  /** [B, 1, T, S] additive: 0 on the row's real encoder tokens. */
  crossMask: tf.Tensor4D;
  /** [B][T] 1 for the row's real decoder tokens: an MoE feed-forward routes only those. */
  tokenMask?: number[][];
}

/**
 * Pre-norm decoder layer of an encoder-decoder transformer (T5 v1.1 with LLaMA parts: RMSNorm,
 * RoPE self-attention, SwiGLU or Mixtral MoE feed-forward): self-attention, cross-attention, feed-forward,
 * each a residual branch. Raffel et al., arXiv:1910.10683.
 */
export class DecoderBlock extends Module {
  readonly norm1: RMSNorm;
  readonly selfAttn: Attention;
  readonly normCross: RMSNorm;
  readonly crossAttn: CrossAttention;
  readonly norm2: RMSNorm;
  readonly mlp: FeedForward;

  constructor(config: { dim: number; numHeads: number; numKvHeads?: number; mlpHidden: number; normEps: number; ffn: FfnConfig }, rng: Rng) {
    super();
    const { dim, numHeads, numKvHeads, mlpHidden, normEps, ffn } = config;
    this.norm1 = this.add('input_layernorm', new RMSNorm(dim, normEps));
    this.selfAttn = this.add('self_attn', new Attention({ dim, numHeads, numKvHeads, bias: false, outputName: 'o_proj' }, rng));
    this.normCross = this.add('encoder_attn_layernorm', new RMSNorm(dim, normEps));
    this.crossAttn = this.add('encoder_attn', new CrossAttention(dim, numHeads, numKvHeads, rng));
    this.norm2 = this.add('post_attention_layernorm', new RMSNorm(dim, normEps));
    // the names TransformerBlock gives them: `mlp` (dense SwiGLU), `block_sparse_moe` (Mixtral)
    this.mlp = ffn.type === 'moe' ? this.add('block_sparse_moe', new SparseMoeBlock(dim, mlpHidden, ffn, rng)) : this.add('mlp', new SwiGLU(dim, mlpHidden, rng));
  }

  /** `moe`: what an MoE feed-forward's router did (absent for a dense one). */
  forward(x: tf.Tensor3D, inputs: DecoderBlockInputs): { out: tf.Tensor3D; present: { key: tf.Tensor4D; value: tf.Tensor4D }; moe?: MoeRouting } {
    const { out: a, present } = this.selfAttn.forward(this.norm1.forward(x), inputs.self);
    let h = x.add(a) as tf.Tensor3D; // [B, T, D]
    h = h.add(this.crossAttn.forward(this.normCross.forward(h), inputs.cross, inputs.crossMask)) as tf.Tensor3D; // [B, T, D]
    const n = this.norm2.forward(h);
    if (this.mlp instanceof SparseMoeBlock) {
      const { out, routing } = this.mlp.forwardRouted(n, inputs.tokenMask);
      return { out: h.add(out) as tf.Tensor3D, present, moe: routing }; // [B, T, D]
    }
    return { out: h.add(this.mlp.forward(n)) as tf.Tensor3D, present }; // [B, T, D]
  }
}
