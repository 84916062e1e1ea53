import * as tf from '@tensorflow/tfjs';
import { Linear, Module, type Rng } from '@mllm/core';
import type { ModelBatch, MultimodalModel } from '@mllm/model';
import { hiddenAt, lastResponsePositions } from './preference-batch';

/**
 * A reward model as InstructGPT builds one (arXiv:2203.02155): the instruction-tuned model
 * with its LM head unused and a scalar head reading the hidden state that has seen the whole
 * answer (HF's sequence-classification `score`, no bias). Parameter names: `model.*` (a full
 * multimodal model, so it sees the image) and `score.weight`.
 */
export type RewardPooling = 'last' | 'mean';

export class RewardModel extends Module {
  readonly score: Linear;

  /**
   * `pooling`: 'last' reads the hidden state that has seen the whole answer (InstructGPT);
   * 'mean' averages the head's score over the answer's positions, so a wrong word only has to
   * be noticed where it stands, not also carried to the end by another attention layer.
   */
  constructor(readonly model: MultimodalModel, rng: Rng, readonly pooling: RewardPooling = 'last') {
    super();
    this.add('model', model);
    // small init, as HF's initializer_range: scores start near 0, so the first steps' loss is ~log 2
    this.score = this.add('score', new Linear(model.llm.dim, 1, rng, { bias: false, std: 0.02 }));
  }

  /** One scalar per row of a training-collated batch: [B]. */
  scores(batch: ModelBatch): tf.Tensor1D {
    return tf.tidy(() => {
      const { logits, hidden } = this.model.forwardWithHidden(batch);
      logits.dispose();
      if (this.pooling === 'last') return this.score.forward(hiddenAt(hidden, lastResponsePositions(batch))).reshape([-1]) as tf.Tensor1D;
      const [b, t] = hidden.shape;
      const mask = tf.tensor2d(batch.weights, [b, t]); // the positions that read the answer's tokens
      const perPosition = this.score.forward(hidden).reshape([b, t]);
      return perPosition.mul(mask).sum(1).div(mask.sum(1).maximum(1)) as tf.Tensor1D;
    });
  }
}

/**
 * PPO's critic on the policy's own trunk (the value head of TRL's original
 * AutoModelForCausalLMWithValueHead): V(s_t) for every position from the hidden state [B, T, D].
 */
export class ValueHead extends Module {
  readonly head: Linear;

  constructor(dim: number, rng: Rng) {
    super();
    this.head = this.add('summary', new Linear(dim, 1, rng, { std: 0.02 }));
  }

  forward(hidden: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const [b, t] = hidden.shape;
      return this.head.forward(hidden).reshape([b, t]) as tf.Tensor2D;
    });
  }
}
