import * as tf from '@tensorflow/tfjs';
import { matMulConstant } from './linear';

/** cos/sin rows for one batch's positions, [B, 1, T, dh]; built once per forward and shared by all layers. */
export interface RopeTables {
  cos: tf.Tensor4D;
  sin: tf.Tensor4D;
}

/**
 * Rotary position embedding, HF's rotate-half convention: dimension i pairs with
 * i + d/2, frequency theta^(-2i/d). rotate_half is a constant signed permutation applied
 * as a 2-D matMul: split/concat on the last axis are slow on wasm.
 */
export class RotaryEmbedding {
  private readonly rotate: tf.Tensor2D;
  private readonly rotateT: tf.Tensor2D;
  /** 1 / theta^(2k/d) for k < d/2 as float32 values, computed once: tables are rebuilt every forward. */
  private readonly inverseFrequencies: Float32Array;

  constructor(readonly headDim: number, readonly theta = 10000) {
    if (headDim % 2 !== 0) throw new Error(`RoPE needs an even head dimension, got ${headDim}`);
    const half = headDim / 2;
    // HF builds inv_freq and the angles in float32 (even for bf16 models, "since bfloat16 loses
    // precision on long contexts"); rounding the same way keeps far positions within float32 of HF.
    const f = Math.fround;
    this.inverseFrequencies = Float32Array.from({ length: half }, (_, k) => f(1 / f(Math.pow(f(theta), f((2 * k) / headDim)))));
    const r = new Float32Array(headDim * headDim);
    // (x @ R)[j] = -x[j + half] for j < half, x[j - half] otherwise
    for (let j = 0; j < half; j++) {
      r[(j + half) * headDim + j] = -1;
      r[j * headDim + j + half] = 1;
    }
    this.rotate = tf.keep(tf.tensor2d(r, [headDim, headDim]));
    this.rotateT = tf.keep(this.rotate.transpose());
  }

  /** positions [B][T] -> cos/sin tables [B, 1, T, dh]. */
  tables(positions: number[][]): RopeTables {
    const b = positions.length;
    const t = positions[0]?.length ?? 0;
    const half = this.headDim / 2;
    const cos = new Float32Array(b * t * this.headDim);
    const sin = new Float32Array(b * t * this.headDim);
    positions.forEach((row, i) =>
      row.forEach((p, j) => {
        const base = (i * t + j) * this.headDim;
        for (let k = 0; k < half; k++) {
          const angle = Math.fround(p * this.inverseFrequencies[k]!); // float32 product, as HF's inv_freq @ position_ids
          cos[base + k] = cos[base + k + half] = Math.cos(angle);
          sin[base + k] = sin[base + k + half] = Math.sin(angle);
        }
      }),
    );
    return { cos: tf.tensor4d(cos, [b, 1, t, this.headDim]), sin: tf.tensor4d(sin, [b, 1, t, this.headDim]) };
  }

  /** x [B, H, T, dh] -> x * cos + rotate_half(x) * sin. */
  apply(x: tf.Tensor4D, tables: RopeTables): tf.Tensor4D {
    return tf.tidy(() => {
      const rotated = matMulConstant(x.reshape([-1, this.headDim]) as tf.Tensor2D, this.rotate, this.rotateT).reshape(x.shape);
      return x.mul(tables.cos).add(rotated.mul(tables.sin)) as tf.Tensor4D;
    });
  }

  dispose(): void {
    this.rotate.dispose();
    this.rotateT.dispose();
  }
}
