import * as tf from '@tensorflow/tfjs';
import { Module } from '../module';
import { fanInUniform, normalInit } from '../init';
import type { Rng } from '../rng';
import { installFastKernels } from '../kernels/batch-matmul';

/**
 * y = x W^T + b with W stored [out, in] as in PyTorch/HF checkpoints. Stock op and gradient: on
 * wasm our registered BatchMatMul kernel serves the transpose flags on XNNPACK (kernels/batch-matmul.ts).
 */
export function linearForward(x2d: tf.Tensor2D, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  installFastKernels();
  const y = tf.matMul(x2d, weight, false, true) as tf.Tensor2D;
  return bias ? tf.add(y, bias) : y;
}

/**
 * x @ M for a constant M (no gradient into M): dx = dy @ M^T with M^T given up front,
 * so neither direction uses transpose flags.
 */
export function matMulConstant(x2d: tf.Tensor2D, m: tf.Tensor2D, mTransposed: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad(((x: tf.Tensor) => ({
    value: tf.matMul(x as tf.Tensor2D, m),
    gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, mTransposed),
  })) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor2D;
  return f(x2d);
}

export interface LinearOptions {
  bias?: boolean;
  /** Overrides PyTorch's default U(-1/sqrt(in), 1/sqrt(in)) init. */
  std?: number;
}

/** A trainable addition to a Linear's output (LoRA's low-rank update): x2d [rows, in] -> [rows, out]. */
export interface LinearAdapter {
  delta(x2d: tf.Tensor2D): tf.Tensor2D;
}

/** Fully connected layer over the last axis: [..., in] -> [..., out]. */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  /** Added to the output while set (a training stage attaches LoRA adapters here and removes them when it merges them). */
  adapter?: LinearAdapter;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: Rng,
    options: LinearOptions = {},
  ) {
    super();
    const shape = [outFeatures, inFeatures];
    const init = options.std === undefined ? fanInUniform(rng, shape, inFeatures) : normalInit(rng, shape, options.std);
    this.weight = this.param('weight', init);
    if (options.bias ?? true) this.bias = this.param('bias', tf.zeros([outFeatures]));
  }

  forward<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const x2d = x.reshape([-1, this.inFeatures]) as tf.Tensor2D;
      const base = linearForward(x2d, this.weight as tf.Tensor2D, this.bias as tf.Tensor1D | undefined);
      const y = this.adapter ? base.add(this.adapter.delta(x2d)) : base;
      return y.reshape([...lead, this.outFeatures]) as T;
    });
  }
}
