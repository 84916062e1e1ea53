import * as tf from '@tensorflow/tfjs';
import { Linear, MllmError, Module, type MoeAux, type Rng } from '@mllm/core';
import { disposeAux, type ModelBatch, type MultimodalModel } from '@mllm/model';
import { sequenceLogProbs, tokenLogProbs } from './dpo-losses';
import { hiddenAt, lastResponsePositions } from './preference-batch';

/**
 * A reward model as InstructGPT builds one (arXiv:2203.02155): the instruction-tuned model
 * with its LM head unused and a scalar head reading the hidden state that has seen the whole
 * answer (HF's sequence-classification `score`, no bias). Parameter names: `model.*` (a full
 * multimodal model, so it sees the image), `score.weight` and, with 'likelihood' pooling,
 * `likelihood_scale`.
 */
export type RewardPooling = 'last' | 'mean' | 'likelihood' | 'ratio';

/** What 'ratio' pooling needs: the frozen model the ratio is taken against, and its scale. */
export interface RatioReward {
  reference: MultimodalModel;
  beta: number;
}

export class RewardModel extends Module {
  readonly score: Linear;
  readonly likelihoodScale?: tf.Variable;
  readonly reference?: MultimodalModel;
  private readonly beta: number;

  /**
   * `pooling`: 'last' reads the hidden state that has seen the whole answer (InstructGPT);
   * 'mean' averages the head's score over the answer's positions, so a wrong word only has to
   * be noticed where it stands, not also carried to the end by another attention layer.
   * 'likelihood' adds, to the 'mean' score, the answer's mean per-token log-probability under
   * the reward model's own LM head times a learned scale (starting at 1). A hallucinated word is
   * one the instruction-tuned LM head already finds unlikely given the image (its likelihood alone
   * ranks the default run's held-out pairs 0.91 right), while a freshly initialised scalar head
   * has to learn that comparison from the preference pairs (0.875 after 800 steps). The mean, not
   * the sum, so that PPO is not paid for stopping early.
   * 'ratio' is DPO's implicit reward (Rafailov et al. 2023, "your language model is secretly a
   * reward model"): beta times the answer's summed log-probability ratio between the reward
   * model's LM head and a frozen reference (the instruction-tuned model), no scalar head. Its
   * Bradley-Terry loss is exactly the DPO loss, so it learns what DPO's policy learns, and each
   * answer token carries its own share: the token that made the difference is paid for.
   */
  constructor(readonly model: MultimodalModel, rng: Rng, readonly pooling: RewardPooling = 'last', ratio?: RatioReward) {
    super();
    this.add('model', model);
    if (pooling === 'ratio') {
      if (!ratio) throw new MllmError("RewardModel: 'ratio' pooling needs the reference model and beta ({ reference, beta })");
      this.reference = this.add('reference', ratio.reference);
      this.reference.freeze().eval();
    }
    this.beta = ratio?.beta ?? 0;
    // small init, as HF's initializer_range: scores start near 0, so the first steps' loss is ~log 2
    this.score = this.add('score', new Linear(model.llm.dim, 1, rng, { bias: false, std: 0.02 }));
    if (pooling === 'likelihood') this.likelihoodScale = this.param('likelihood_scale', tf.ones([1]));
  }

  /** One scalar per row of a training-collated batch: [B]. */
  scores(batch: ModelBatch): tf.Tensor1D {
    return tf.tidy(() => this.scoresWithAux(batch).scores);
  }

  /** `scores`, with the MoE auxiliaries of the reward model's LLM (absent for a dense one), for training it. */
  scoresWithAux(batch: ModelBatch): { scores: tf.Tensor1D; aux?: MoeAux } {
    const { logits, hidden, aux } = this.model.forwardWithHidden(batch);
    return { scores: this.pool(batch, logits, hidden), ...(aux && { aux }) };
  }

  /**
   * The score of each row as per-position contributions [B, T] that sum to `scores(batch)`:
   * with 'mean' or 'likelihood' pooling the score is a mean over the answer's positions, so each
   * position's head output (plus its token's scaled log-probability) over the answer length is
   * its share; with 'ratio' each position's scaled log-ratio is. A wrong word lowers the score
   * where it stands: PPO's token-level credit. 'last' pooling has no such split.
   */
  tokenScores(batch: ModelBatch): tf.Tensor2D {
    if (this.pooling === 'last') throw new MllmError("token-level reward needs a reward model with pooling 'mean', 'likelihood' or 'ratio' (a 'last'-pooled score is one number for the whole answer)");
    return tf.tidy(() => {
      const { logits, hidden, aux } = this.model.forwardWithHidden(batch);
      disposeAux(aux);
      const [b, t] = hidden.shape;
      const mask = tf.tensor2d(batch.weights, [b, t]);
      if (this.reference) return this.logRatios(batch, logits).mul(mask) as tf.Tensor2D;
      const answerLength = mask.sum(1, true).maximum(1);
      let perPosition = this.score.forward(hidden).reshape([b, t]);
      if (this.likelihoodScale) perPosition = perPosition.add(tokenLogProbs(logits, tf.tensor2d(batch.targets, [b, t], 'int32')).mul(this.likelihoodScale));
      return perPosition.mul(mask).div(answerLength) as tf.Tensor2D;
    });
  }

  /** beta * (log p_model - log p_reference) of every position's target: [B, T]. */
  private logRatios(batch: ModelBatch, logits: tf.Tensor3D): tf.Tensor2D {
    const [b, t] = logits.shape;
    const targets = tf.tensor2d(batch.targets, [b, t], 'int32');
    const referenceLogProbs = tf.tidy(() => tokenLogProbs(this.reference!.forward(batch), targets));
    return tokenLogProbs(logits, targets).sub(referenceLogProbs).mul(this.beta) as tf.Tensor2D;
  }

  private pool(batch: ModelBatch, logits: tf.Tensor3D, hidden: tf.Tensor3D): tf.Tensor1D {
    return tf.tidy(() => {
      if (this.reference) return this.logRatios(batch, logits).mul(tf.tensor2d(batch.weights, logits.shape.slice(0, 2) as [number, number])).sum(1) as tf.Tensor1D;
      if (this.pooling === 'last') return this.score.forward(hiddenAt(hidden, lastResponsePositions(batch))).reshape([-1]) as tf.Tensor1D;
      const [b, t] = hidden.shape;
      const mask = tf.tensor2d(batch.weights, [b, t]); // the positions that read the answer's tokens
      const perPosition = this.score.forward(hidden).reshape([b, t]);
      const answerLength = mask.sum(1).maximum(1);
      const pooled = perPosition.mul(mask).sum(1).div(answerLength) as tf.Tensor1D;
      if (!this.likelihoodScale) return pooled;
      const meanLogProb = sequenceLogProbs(logits, tf.tensor2d(batch.targets, [b, t], 'int32'), mask).div(answerLength);
      return pooled.add(meanLogProb.mul(this.likelihoodScale)) as tf.Tensor1D;
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
