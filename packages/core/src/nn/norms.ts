import * as tf from '@tensorflow/tfjs';
import { Module } from '../module';

/** LayerNorm over the last axis with affine weight and bias (HF `weight`, `bias`). */
export class LayerNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(readonly dim: number, readonly eps = 1e-5) {
    super();
    this.weight = this.param('weight', tf.ones([dim]));
    this.bias = this.param('bias', tf.zeros([dim]));
  }

  forward<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true);
      return x.sub(mean).mul(tf.rsqrt(variance.add(this.eps))).mul(this.weight).add(this.bias) as T;
    });
  }
}

/** RMSNorm (LLaMA): x / rms(x) * weight, no mean subtraction, no bias. */
export class RMSNorm extends Module {
  readonly weight: tf.Variable;

  constructor(readonly dim: number, readonly eps = 1e-6) {
    super();
    this.weight = this.param('weight', tf.ones([dim]));
  }

  forward<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => x.mul(tf.rsqrt(x.square().mean(-1, true).add(this.eps))).mul(this.weight) as T);
  }
}

export type NormKind = 'layernorm' | 'rmsnorm';

export function makeNorm(kind: NormKind, dim: number, eps?: number): LayerNorm | RMSNorm {
  return kind === 'layernorm' ? new LayerNorm(dim, eps) : new RMSNorm(dim, eps);
}
