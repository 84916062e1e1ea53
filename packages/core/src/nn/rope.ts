import * as tf from '@tensorflow/tfjs';

/**
 * Rotary position embedding, HF's rotate-half convention: dimension i pairs with
 * i + d/2, frequency theta^(-2i/d). Tables are built once per length and reused.
 */
export class RotaryEmbedding {
  private cos?: tf.Tensor2D;
  private sin?: tf.Tensor2D;
  private length = 0;

  constructor(readonly headDim: number, readonly theta = 10000) {
    if (headDim % 2 !== 0) throw new Error(`RoPE needs an even head dimension, got ${headDim}`);
  }

  private ensure(length: number): void {
    if (length <= this.length) return;
    this.cos?.dispose();
    this.sin?.dispose();
    const half = this.headDim / 2;
    const cos = new Float32Array(length * this.headDim);
    const sin = new Float32Array(length * this.headDim);
    for (let p = 0; p < length; p++) {
      for (let i = 0; i < half; i++) {
        const angle = p * Math.pow(this.theta, (-2 * i) / this.headDim);
        for (const j of [i, i + half]) {
          cos[p * this.headDim + j] = Math.cos(angle);
          sin[p * this.headDim + j] = Math.sin(angle);
        }
      }
    }
    this.cos = tf.keep(tf.tensor2d(cos, [length, this.headDim]));
    this.sin = tf.keep(tf.tensor2d(sin, [length, this.headDim]));
    this.length = length;
  }

  /** x [B, H, T, dh], positions [B, T] int32 -> rotated x. */
  apply(x: tf.Tensor4D, positions: tf.Tensor2D): tf.Tensor4D {
    const [b, , t] = x.shape;
    const maxPosition = positions.max();
    this.ensure(maxPosition.dataSync()[0]! + 1);
    maxPosition.dispose();
    return tf.tidy(() => {
      const flat = positions.reshape([-1]).toInt();
      const cos = tf.gather(this.cos!, flat).reshape([b, 1, t, this.headDim]);
      const sin = tf.gather(this.sin!, flat).reshape([b, 1, t, this.headDim]);
      const half = this.headDim / 2;
      const [x1, x2] = tf.split(x, [half, half], 3);
      const rotated = tf.concat([x2!.neg(), x1!], 3);
      return x.mul(cos).add(rotated.mul(sin)) as tf.Tensor4D;
    });
  }

  dispose(): void {
    this.cos?.dispose();
    this.sin?.dispose();
    this.length = 0;
  }
}
