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
    let q = this.heads(this.q.forward(x), h); // [B, H, T, dh]
    let k = this.heads(this.k.forward(kvSource), this.numKvHeads); // [B, Hkv, S, dh]
    let v = this.heads(this.v.forward(kvSource), this.numKvHeads);
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
    const probs = tf.softmax(inputs.mask ? scores.add(inputs.mask) : scores);
    const ctx = batchMatMul(probs.reshape([b * h, t, s]) as tf.Tensor3D, vFull.reshape([b * h, s, this.headDim])); // [B*H, T, dh]
    const merged = ctx.reshape([b, h, t, this.headDim]).transpose([0, 2, 1, 3]).reshape([b, t, d]) as tf.Tensor3D;
    return { out: this.o.forward(merged), present };
  }
}

/** [B, Hkv, S, dh] -> [B, Hkv * groups, S, dh], each kv head repeated for its query group (HF repeat_kv). */
function repeatHeads(x: tf.Tensor4D, groups: number): tf.Tensor4D {
  const [b, hkv, s, dh] = x.shape;
  // rank-3 tile: tfjs has no tile gradient above rank 4
  return x.reshape([b * hkv, 1, s * dh]).tile([1, groups, 1]).reshape([b, hkv * groups, s, dh]) as tf.Tensor4D;
}
