import * as tf from '@tensorflow/tfjs';
import { Module } from '../module';
import { Linear } from './linear';
import { batchMatMul, batchMatMulNT } from '../kernels/batch-matmul';
import type { RopeTables, RotaryEmbedding } from './rope';
import type { Rng } from '../rng';

/** Shapes: B batch, T query tokens, S key tokens, H heads, Hkv key/value heads, dh head width. */
export interface AttentionConfig {
  dim: number;
  numHeads: number;
  /** Grouped-query attention: fewer key/value heads, each shared by numHeads / numKvHeads query heads. */
  numKvHeads?: number;
  bias?: boolean;
  /** Name of the output projection: HF Llama `o_proj`, CLIP `out_proj`. */
  outputName?: 'o_proj' | 'out_proj';
}

export interface AttentionInputs {
  /** Additive mask [B or 1, 1, T, S]. */
  mask?: tf.Tensor;
  /** Rotary embedding and the cos/sin tables of this batch's positions. */
  rope?: { rotary: RotaryEmbedding; tables: RopeTables };
  /** Cached keys/values [B, Hkv, S_past, dh]; the new ones are appended and returned. */
  past?: { key: tf.Tensor4D; value: tf.Tensor4D };
  /** Attend to these [B, S, D] instead of x (cross-attention). */
  context?: tf.Tensor3D;
  /** Gated key/value prefix (LLaMA-Adapter zero-init attention), see `AttentionPrefix`. */
  prefix?: AttentionPrefix;
  /** Per-position q/k/v weights by modality (CogVLM visual expert), see `AttentionRouting`. */
  routing?: AttentionRouting;
  /**
   * Scores s where `mask` [B, 1, T, S] is 1 become s + alpha |s| (after the 1/sqrt(dh) scaling,
   * before the mask and softmax): PAI's boost of the attention to image tokens.
   */
  boost?: { mask: tf.Tensor4D; alpha: number };
}

/**
 * Image positions take their q/k/v from `qkv` (the visual expert's own projections), text
 * positions from this layer's; keys and values of both then meet in one softmax. Self-attention
 * only. The masks are 0/1, so x * text + y * image picks either side exactly.
 */
export interface AttentionRouting {
  /** [B, T, 1] 1 at image positions. */
  imageMask: tf.Tensor3D;
  /** [B, T, 1] 1 - imageMask. */
  textMask: tf.Tensor3D;
  /** x [B, T, D] -> the image-side projections q [B, T, D], k and v [B, T, Hkv * dh]. */
  qkv(x: tf.Tensor3D): { q: tf.Tensor3D; k: tf.Tensor3D; v: tf.Tensor3D };
}

/**
 * Extra key/value sources [B, P, D] projected by this layer's own k/v weights, without RoPE and
 * visible to every query. Their scores get a softmax of their own, scaled per head by `gate`
 * [H] and added to the ordinary attention (LLaMA-Adapter, arXiv:2303.16199, Eq. 8-9), so a zero
 * gate leaves the layer exactly as it was. They are never returned in `present`: the caller
 * hands them in at every step, so a KV cache holds only the sequence's own keys.
 */
export interface AttentionPrefix {
  states: tf.Tensor3D;
  gate: tf.Tensor1D;
}

/** Multi-head attention with optional RoPE, grouped-query heads and KV cache (LLaMA, CLIP). */
export class Attention extends Module {
  readonly headDim: number;
  readonly numKvHeads: number;
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;

  constructor(readonly config: AttentionConfig, rng: Rng) {
    super();
    const { dim, numHeads } = config;
    this.numKvHeads = config.numKvHeads ?? numHeads;
    if (dim % numHeads !== 0) throw new Error(`attention: dim ${dim} is not divisible by numHeads ${numHeads}`);
    if (numHeads % this.numKvHeads !== 0)
      throw new Error(`attention: numHeads ${numHeads} is not divisible by numKvHeads ${this.numKvHeads}`);
    this.headDim = dim / numHeads;
    const bias = config.bias ?? false;
    const kvDim = this.numKvHeads * this.headDim;
    this.q = this.add('q_proj', new Linear(dim, dim, rng, { bias }));
    this.k = this.add('k_proj', new Linear(dim, kvDim, rng, { bias }));
    this.v = this.add('v_proj', new Linear(dim, kvDim, rng, { bias }));
    this.o = this.add(config.outputName ?? 'o_proj', new Linear(dim, dim, rng, { bias }));
  }

  private heads(x: tf.Tensor3D, n: number): tf.Tensor4D {
    const [b, t] = x.shape;
    return x.reshape([b, t, n, this.headDim]).transpose([0, 2, 1, 3]) as tf.Tensor4D; // [B, n, T, dh]
  }

  /** x [B, T, D] -> { out [B, T, D], present keys/values for the cache }. */
  forward(x: tf.Tensor3D, inputs: AttentionInputs = {}): { out: tf.Tensor3D; present: { key: tf.Tensor4D; value: tf.Tensor4D } } {
    const [b, t, d] = x.shape;
    const h = this.config.numHeads;
    const kvSource = inputs.context ?? x;
    let [qx, kx, vx] = [this.q.forward(x), this.k.forward(kvSource), this.v.forward(kvSource)]; // [B, T, D], [B, S, Hkv * dh] x2
    if (inputs.routing) {
      if (inputs.context) throw new Error('attention: modality routing applies to self-attention only, not with a context');
      const { imageMask, textMask } = inputs.routing;
      const image = inputs.routing.qkv(x);
      const pick = (text: tf.Tensor3D, img: tf.Tensor3D) => text.mul(textMask).add(img.mul(imageMask)) as tf.Tensor3D;
      [qx, kx, vx] = [pick(qx, image.q), pick(kx, image.k), pick(vx, image.v)];
    }
    let q = this.heads(qx, h); // [B, H, T, dh]
    let k = this.heads(kx, this.numKvHeads); // [B, Hkv, S, dh]
    let v = this.heads(vx, this.numKvHeads);
    if (inputs.rope) {
      q = inputs.rope.rotary.apply(q, inputs.rope.tables);
      k = inputs.rope.rotary.apply(k, inputs.rope.tables);
    }
    if (inputs.past) {
      k = tf.concat([inputs.past.key, k], 2);
      v = tf.concat([inputs.past.value, v], 2);
    }
    const present = { key: k, value: v };
    const groups = h / this.numKvHeads;
    const kFull = groups > 1 ? repeatHeads(k, groups) : k; // [B, H, S, dh]
    const vFull = groups > 1 ? repeatHeads(v, groups) : v;
    const s = kFull.shape[2];
    const scores = batchMatMulNT(q.reshape([b * h, t, this.headDim]), kFull.reshape([b * h, s, this.headDim]))
      .reshape([b, h, t, s])
      .mul(1 / Math.sqrt(this.headDim)); // [B, H, T, S]
    const boosted = inputs.boost ? scores.add(scores.abs().mul(inputs.boost.mask).mul(inputs.boost.alpha)) : scores;
    const probs = tf.softmax(inputs.mask ? boosted.add(inputs.mask) : boosted);
    const ctx = batchMatMul(probs.reshape([b * h, t, s]) as tf.Tensor3D, vFull.reshape([b * h, s, this.headDim])); // [B*H, T, dh]
    const gated = inputs.prefix ? ctx.add(this.prefixContext(q, inputs.prefix)) : ctx; // [B*H, T, dh]
    const merged = gated.reshape([b, h, t, this.headDim]).transpose([0, 2, 1, 3]).reshape([b, t, d]) as tf.Tensor3D;
    return { out: this.o.forward(merged), present };
  }

  /** q [B, H, T, dh] -> gate_h * softmax(q k_p^T / sqrt(dh)) v_p as [B*H, T, dh]. */
  private prefixContext(q: tf.Tensor4D, prefix: AttentionPrefix): tf.Tensor3D {
    const [b, h, t, dh] = q.shape;
    const p = prefix.states.shape[1];
    if (prefix.states.shape[0] !== b) throw new Error(`attention: prefix has ${prefix.states.shape[0]} rows, the queries ${b}`);
    if (prefix.gate.shape[0] !== h) throw new Error(`attention: prefix gate has ${prefix.gate.shape[0]} entries, one per head (${h}) expected`);
    const groups = h / this.numKvHeads;
    let k = this.heads(this.k.forward(prefix.states), this.numKvHeads); // [B, Hkv, P, dh]
    let v = this.heads(this.v.forward(prefix.states), this.numKvHeads);
    if (groups > 1) {
      k = repeatHeads(k, groups); // [B, H, P, dh]
      v = repeatHeads(v, groups);
    }
    const scores = batchMatMulNT(q.reshape([b * h, t, dh]), k.reshape([b * h, p, dh])).mul(1 / Math.sqrt(dh)); // [B*H, T, P]
    const ctx = batchMatMul(tf.softmax(scores) as tf.Tensor3D, v.reshape([b * h, p, dh])); // [B*H, T, dh]
    return ctx.reshape([b, h, t, dh]).mul(prefix.gate.reshape([1, h, 1, 1])).reshape([b * h, t, dh]) as tf.Tensor3D;
  }
}

/** [B, Hkv, S, dh] -> [B, Hkv * groups, S, dh], each kv head repeated for its query group (HF repeat_kv). */
function repeatHeads(x: tf.Tensor4D, groups: number): tf.Tensor4D {
  const [b, hkv, s, dh] = x.shape;
  // a broadcast product with ones, not tile: the same values (x * 1 = x) and the same gradient
  // bit for bit (the sum over the group axis, in group order), but tile's gradient is one Slice and
  // Add per group on wasm, ~6x slower (2.4 s of tile and 1.1 s of its slices a 135M GQA step)
  return x
    .reshape([b * hkv, 1, s * dh])
    .mul(tf.ones([1, groups, 1]))
    .reshape([b, hkv * groups, s, dh]) as tf.Tensor4D;
}
