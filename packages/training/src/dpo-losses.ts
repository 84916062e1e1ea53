import * as tf from '@tensorflow/tfjs';

/**
 * Preference losses over whole responses: DPO (Rafailov et al. 2023, arXiv:2305.18290) and the
 * Bradley-Terry reward-model loss (InstructGPT, arXiv:2203.02155), with HuggingFace TRL's
 * semantics (DPOTrainer loss_type "sigmoid", RewardTrainer). Shapes: B pairs, T tokens, V vocab.
 * Every returned tensor belongs to the caller.
 */

/**
 * Log-probability of each sequence's targets: sum over the positions where mask is 1 of
 * log_softmax(logits)[target]. logits [B, T, V] predict targets [B, T] (already shifted, as
 * ModelBatch.targets are); mask [B, T] is 1 on response tokens, so prompt and padding do not
 * count. A sum, not a mean: DPO's implicit reward is log pi(y|x) of the whole response.
 */
export function sequenceLogProbs(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor1D {
  const [b, t, v] = logits.shape;
  if (mask.shape[0] !== b || mask.shape[1] !== t) {
    throw new Error(`sequenceLogProbs: mask [${mask.shape}] must be [${b}, ${t}] to match logits [${b}, ${t}, ${v}]`);
  }
  return tf.tidy(() => tokenLogProbs(logits, targets).mul(mask.toFloat()).sum(1) as tf.Tensor1D); // [B]
}

/**
 * log_softmax(logits)[target] at every position: [B, T] (PPO's per-token log-probs).
 * The target is picked with a one-hot product, because gather has no gradient on wasm.
 */
export function tokenLogProbs(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor2D {
  const [b, t, v] = logits.shape;
  if (targets.shape[0] !== b || targets.shape[1] !== t) {
    throw new Error(`tokenLogProbs: targets [${targets.shape}] must be [${b}, ${t}] to match logits [${b}, ${t}, ${v}]`);
  }
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits.reshape([b * t, v])); // [B*T, V]
    // oneHot(ids, V, 'float32') returns garbage on wasm; cast after
    const picked = logp.mul(tf.oneHot(targets.reshape([b * t]).toInt(), v).toFloat()).sum(1); // [B*T]
    return picked.reshape([b, t]) as tf.Tensor2D;
  });
}

/** Sequence log-probs of chosen and rejected responses under the policy and the frozen reference. */
export interface PreferenceLogProbs {
  policyChosen: tf.Tensor1D;
  policyRejected: tf.Tensor1D;
  referenceChosen: tf.Tensor1D;
  referenceRejected: tf.Tensor1D;
}

export interface DpoOptions {
  /** Strength of the KL anchor to the reference; TRL's default 0.1. */
  beta?: number;
  /** Assumed probability that a pair's label is flipped (cDPO); 0 is plain DPO. TRL allows [0, 0.5]. */
  labelSmoothing?: number;
}

export interface DpoOutput {
  /** Mean over pairs; the only output meant to be differentiated. */
  loss: tf.Scalar;
  /** Implicit rewards beta * (log pi - log pi_ref), [B], as TRL logs rewards/chosen and rewards/rejected. */
  chosenRewards: tf.Tensor1D;
  rejectedRewards: tf.Tensor1D;
  /** mean(chosenRewards - rejectedRewards): TRL's rewards/margins. */
  margin: tf.Scalar;
  /** mean(chosenRewards > rejectedRewards): TRL's rewards/accuracies; a tie counts as wrong. */
  accuracy: tf.Scalar;
}

/**
 * log sigmoid(x) = -softplus(-x), stable for large |x|. Not tf.logSigmoid: its custom gradient
 * closes over its input, which a tidy around the forward pass disposes before tf.grads runs.
 */
function logSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.softplus(x.neg()).neg();
}

function sameShape(name: string, tensors: Record<string, tf.Tensor>): number[] {
  const entries = Object.entries(tensors);
  const shape = entries[0]![1].shape;
  for (const [key, x] of entries) {
    if (x.rank !== 1 || x.shape[0] !== shape[0]) {
      throw new Error(`${name}: every input must be [B] (one value per pair); ${key} is [${x.shape}], ${entries[0]![0]} is [${shape}]`);
    }
  }
  return shape;
}

/**
 * DPO loss with cDPO label smoothing eps, as TRL's "sigmoid" loss:
 *   h = (policyChosen - policyRejected) - (referenceChosen - referenceRejected)
 *   loss = mean( -(1 - eps) * log sigmoid(beta h) - eps * log sigmoid(-beta h) )
 * At policy == reference h = 0 and the loss is log 2 whatever eps is.
 */
export function dpoLoss(logps: PreferenceLogProbs, options: DpoOptions = {}): DpoOutput {
  const beta = options.beta ?? 0.1;
  const eps = options.labelSmoothing ?? 0;
  if (!(beta > 0) || !Number.isFinite(beta)) throw new Error(`dpoLoss: beta must be a finite number > 0, got ${beta}`);
  if (!(eps >= 0 && eps <= 0.5)) throw new Error(`dpoLoss: labelSmoothing must be in [0, 0.5] (the chance a label is flipped), got ${eps}`);
  sameShape('dpoLoss', { ...logps });
  return tf.tidy(() => {
    const { policyChosen, policyRejected, referenceChosen, referenceRejected } = logps;
    const chosenRatio = policyChosen.sub(referenceChosen); // [B] log pi/pi_ref on the chosen answer
    const rejectedRatio = policyRejected.sub(referenceRejected); // [B]
    const logits = chosenRatio.sub(rejectedRatio).mul(beta); // [B] beta h
    let losses = logSigmoid(logits).mul(-(1 - eps)); // [B]
    if (eps > 0) losses = losses.sub(logSigmoid(logits.neg()).mul(eps));
    const chosenRewards = chosenRatio.mul(beta) as tf.Tensor1D;
    const rejectedRewards = rejectedRatio.mul(beta) as tf.Tensor1D;
    return {
      loss: losses.mean() as tf.Scalar,
      chosenRewards,
      rejectedRewards,
      margin: chosenRewards.sub(rejectedRewards).mean() as tf.Scalar,
      accuracy: chosenRewards.greater(rejectedRewards).toFloat().mean() as tf.Scalar,
    };
  });
}

export interface BradleyTerryOptions {
  /** Per-pair margin the chosen reward must clear, [B] (TRL's optional "margin" column; Llama 2). */
  margin?: tf.Tensor1D;
  /** Weight of mean((rChosen + rRejected)^2), which keeps rewards centred at 0 (TRL's center_rewards_coefficient). */
  centerRewardsCoefficient?: number;
}

/**
 * Reward-model loss under the Bradley-Terry model P(chosen > rejected) = sigmoid(rC - rR):
 * loss = mean(-log sigmoid(rC - rR - margin)) [+ c * mean((rC + rR)^2)]; log 2 at equal rewards.
 * accuracy = mean(rC > rR), a tie counting as wrong.
 */
export function bradleyTerryLoss(
  rewardChosen: tf.Tensor1D,
  rewardRejected: tf.Tensor1D,
  options: BradleyTerryOptions = {},
): { loss: tf.Scalar; accuracy: tf.Scalar } {
  sameShape('bradleyTerryLoss', { rewardChosen, rewardRejected, ...(options.margin ? { margin: options.margin } : {}) });
  return tf.tidy(() => {
    let diff = rewardChosen.sub(rewardRejected); // [B]
    if (options.margin) diff = diff.sub(options.margin);
    let loss = logSigmoid(diff).neg().mean() as tf.Scalar;
    const c = options.centerRewardsCoefficient ?? 0;
    if (c !== 0) loss = loss.add(rewardChosen.add(rewardRejected).square().mean().mul(c));
    return { loss, accuracy: rewardChosen.greater(rewardRejected).toFloat().mean() as tf.Scalar };
  });
}
