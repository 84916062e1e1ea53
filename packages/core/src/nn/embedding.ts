import * as tf from '@tensorflow/tfjs';
import { Module } from '../module';
import { normalInit } from '../init';
import type { Rng } from '../rng';
import { AT_SIZE_ELEMENTS, embeddingGradRows } from '../kernels/at-size';

/**
 * Row lookup with a hand-written gradient: tfjs's gather gradient needs
 * UnsortedSegmentSum, which the wasm backend lacks, so dW = onehot(ids)^T dy; at a released
 * model's vocabulary on wasm, dy's rows added into dW's rows in place (`embeddingGradRows`).
 */
export function embeddingLookup(weight: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const flat = ids.reshape([-1]).toInt();
  const [vocab, dim] = weight.shape;
  const f = tf.customGrad(((w: tf.Tensor, save: tf.GradSaveFunc) => {
    save([flat]); // the ids must outlive the caller's tidy scope until backprop
    return {
      value: tf.gather(w, flat),
      gradFunc: (dy: tf.Tensor, [ids]: tf.Tensor[]) =>
        (ids!.size * vocab >= AT_SIZE_ELEMENTS ? embeddingGradRows(ids as tf.Tensor1D, dy as tf.Tensor2D, vocab) : undefined) ??
        tf.matMul(tf.transpose(tf.oneHot(ids as tf.Tensor1D, vocab).toFloat()), dy as tf.Tensor2D),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (w: tf.Tensor) => tf.Tensor;
  return f(weight).reshape([...ids.shape, dim]);
}

/** Token embedding table [vocab, dim] (HF: `embed_tokens.weight`). */
export class Embedding extends Module {
  readonly weight: tf.Variable;

  constructor(
    readonly numEmbeddings: number,
    readonly dim: number,
    rng: Rng,
    options: { std?: number } = {},
  ) {
    super();
    this.weight = this.param('weight', normalInit(rng, [numEmbeddings, dim], options.std ?? 0.02));
  }

  /** ids [...] int32 -> [..., dim] */
  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => embeddingLookup(this.weight as tf.Tensor2D, ids));
  }
}
