import * as tf from '@tensorflow/tfjs';
import { LayerNorm, Linear, Module, ModuleGroup, batchMatMul, batchMatMulNT, type Rng } from '@mllm/core';

// Shapes: B batch, T query tokens, S key tokens (T itself, or N encoder tokens), H heads,
// dh head width, D query width, Dkv width of the key/value source.

/**
 * Multi-head attention whose keys and values may come from another width (HF
 * Blip2QFormerMultiHeadAttention: `query`, `key`, `value`). Core's `Attention` projects its
 * `context` with D-wide k/v weights, so it cannot read encoder features of width D_enc != D;
 * the products still run on core's batched kernels, as there.
 */
export class QFormerMultiHeadAttention extends Module {
  readonly headDim: number;
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;

  constructor(readonly dim: number, kvDim: number, readonly numHeads: number, rng: Rng) {
    super();
    if (dim % numHeads !== 0) throw new Error(`Q-Former attention: dim ${dim} is not divisible by heads ${numHeads}`);
    this.headDim = dim / numHeads;
    this.query = this.add('query', new Linear(dim, dim, rng));
    // no key bias (HF has one; Whisper drops it too): it adds q . b to every score of a row,
    // which softmax cancels, so its gradient is exactly zero and it could never train
    this.key = this.add('key', new Linear(kvDim, dim, rng, { bias: false }));
    this.value = this.add('value', new Linear(kvDim, dim, rng));
  }

  /** x [B, T, D], kv [B, S, Dkv] -> heads merged [B, T, D] (before the output projection). */
  forward(x: tf.Tensor3D, kv: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const [b, t, d] = x.shape;
      const s = kv.shape[1];
      const h = this.numHeads;
      const dh = this.headDim;
      const split = (y: tf.Tensor3D, n: number) => y.reshape([b, n, h, dh]).transpose([0, 2, 1, 3]).reshape([b * h, n, dh]) as tf.Tensor3D;
      // the 1/sqrt(dh) scale goes on q ([T, dh]) rather than on the scores ([T, S]): fewer multiplies when S > dh
      const q = split(this.query.forward(x).mul(1 / Math.sqrt(dh)), t); // [B*H, T, dh]
      const k = split(this.key.forward(kv), s); // [B*H, S, dh]
      const v = split(this.value.forward(kv), s); // [B*H, S, dh]
      const probs = tf.softmax(batchMatMulNT(q, k)) as tf.Tensor3D; // [B*H, T, S]
      const ctx = batchMatMul(probs, v); // [B*H, T, dh]
      return ctx.reshape([b, h, t, dh]).transpose([0, 2, 1, 3]).reshape([b, t, d]) as tf.Tensor3D; // [B, T, D]
    });
  }
}

/**
 * One attention sub-layer with its residual (HF Blip2QFormerAttention: `attention`, `output.dense`),
 * pre-norm: the LayerNorm sits on the sub-layer's input, named `input_layernorm` rather than
 * HF's post-norm `output.LayerNorm`, so a post-norm BLIP-2 checkpoint fails to load by name
 * instead of loading into weights that compute something else.
 */
export class QFormerAttention extends Module {
  readonly norm: LayerNorm;
  readonly attention: QFormerMultiHeadAttention;
  readonly dense: Linear;

  constructor(dim: number, kvDim: number, numHeads: number, rng: Rng) {
    super();
    this.norm = this.add('input_layernorm', new LayerNorm(dim));
    this.attention = this.add('attention', new QFormerMultiHeadAttention(dim, kvDim, numHeads, rng));
    this.dense = new Linear(dim, dim, rng);
    this.add('output', new ModuleGroup({ dense: this.dense }));
  }

  /** x [B, T, D] attends to itself, or to `context` [B, S, Dkv] (cross-attention) -> [B, T, D]. */
  forward(x: tf.Tensor3D, context?: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const normed = this.norm.forward(x); // [B, T, D]
      const mixed = this.attention.forward(normed, context ?? normed); // [B, T, D]
      return x.add(this.dense.forward(mixed)) as tf.Tensor3D; // [B, T, D]
    });
  }
}
