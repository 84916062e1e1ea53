import * as tf from '@tensorflow/tfjs';

/**
 * PPO pieces for RLHF (Schulman et al. 2017, arXiv:1707.06347; GAE arXiv:1506.02438), with
 * HuggingFace TRL's PPOTrainer semantics: per-token KL estimate, GAE, the clipped policy
 * surrogate and the clipped value loss, each a masked mean over response tokens.
 * Shapes: B sequences, T response tokens; mask [B, T] is 1 on real response tokens.
 * Every returned tensor belongs to the caller.
 */

export type KlEstimator = 'k1' | 'k3';

/**
 * Per-token KL(pi || pi_ref) estimate from the sampled tokens' log-probs, as TRL's kl_estimator:
 * k1 = logProbs - refLogProbs (TRL's default; unbiased, can be negative per token),
 * k3 = (r - 1) - log r with r = exp(refLogProbs - logProbs) (never negative, lower variance).
 * TRL subtracts kl_coef times this from the per-token reward.
 */
export function perTokenKl(logProbs: tf.Tensor2D, refLogProbs: tf.Tensor2D, options: { estimator?: KlEstimator } = {}): tf.Tensor2D {
  return tf.tidy(() => {
    const logRatio = refLogProbs.sub(logProbs); // log(pi_ref / pi)
    return (options.estimator === 'k3' ? logRatio.exp().sub(1).sub(logRatio) : logRatio.neg()) as tf.Tensor2D;
  });
}

export interface GaeOptions {
  /** Discount; TRL's default 1 (a response is short and ends). */
  gamma?: number;
  /** GAE lambda: 0 is one-step TD, 1 is the Monte-Carlo return; TRL's default 0.95. */
  lambda?: number;
  /**
   * Value of the state after the last step. Default 0: the response ended (TRL's convention,
   * `nextvalues = 0` past the last token); pass the critic's value to bootstrap a cut-off sequence.
   */
  bootstrap?: number;
}

/**
 * Generalised advantage estimation over one sequence. rewards and values both have length T
 * (values[t] is V(s_t)); the value after step T-1 is `options.bootstrap`.
 *   delta_t = r_t + gamma V(s_t+1) - V(s_t);  A_t = delta_t + gamma lambda A_t+1;  returns = A + V.
 */
export function gae(rewards: readonly number[], values: readonly number[], options: GaeOptions = {}): { advantages: number[]; returns: number[] } {
  const gamma = options.gamma ?? 1;
  const lambda = options.lambda ?? 0.95;
  if (values.length !== rewards.length) {
    throw new Error(`gae: values must have one entry per reward (${rewards.length}), got ${values.length}; the value after the last step goes in options.bootstrap`);
  }
  const advantages = new Array<number>(rewards.length);
  let next = options.bootstrap ?? 0;
  let running = 0;
  for (let t = rewards.length - 1; t >= 0; t--) {
    const delta = rewards[t]! + gamma * next - values[t]!;
    running = delta + gamma * lambda * running;
    advantages[t] = running;
    next = values[t]!;
  }
  return { advantages, returns: advantages.map((a, t) => a + values[t]!) };
}

/**
 * GAE per row of a padded batch: each row's masked positions, in order, form its sequence
 * (ending the episode, bootstrap 0); unmasked positions get advantage and return 0.
 */
export function gaeBatch(
  rewards: readonly (readonly number[])[],
  values: readonly (readonly number[])[],
  mask: readonly (readonly number[])[],
  options: Omit<GaeOptions, 'bootstrap'> = {},
): { advantages: number[][]; returns: number[][] } {
  const advantages: number[][] = [];
  const returns: number[][] = [];
  rewards.forEach((row, b) => {
    const keep = row.map((_, t) => t).filter((t) => mask[b]![t] !== 0);
    const one = gae(keep.map((t) => row[t]!), keep.map((t) => values[b]![t]!), options);
    const a = new Array<number>(row.length).fill(0);
    const r = new Array<number>(row.length).fill(0);
    keep.forEach((t, i) => {
      a[t] = one.advantages[i]!;
      r[t] = one.returns[i]!;
    });
    advantages.push(a);
    returns.push(r);
  });
  return { advantages, returns };
}

/** sum(x * mask) / sum(mask); an all-zero mask gives 0 instead of TRL's NaN. */
function maskedMean(x: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return x.mul(mask).sum().div(mask.sum().maximum(1e-8)) as tf.Scalar;
}

function checkShapes(name: string, tensors: Record<string, tf.Tensor2D>): void {
  const [first, ...rest] = Object.entries(tensors);
  for (const [key, x] of rest) {
    if (x.shape[0] !== first![1].shape[0] || x.shape[1] !== first![1].shape[1]) {
      throw new Error(`${name}: every input must be [B, T]; ${key} is [${x.shape}], ${first![0]} is [${first![1].shape}]`);
    }
  }
}

export interface PolicyLossInputs {
  /** Log-probs of the sampled tokens under the policy being trained, [B, T]. */
  logProbs: tf.Tensor2D;
  /** The same under the policy that sampled them (constants), [B, T]. */
  oldLogProbs: tf.Tensor2D;
  advantages: tf.Tensor2D;
  mask: tf.Tensor2D;
}

/**
 * PPO's clipped surrogate as a loss, as TRL: ratio = exp(logProbs - oldLogProbs),
 * loss = maskedMean(max(-A ratio, -A clip(ratio, 1 - c, 1 + c))). The max is the pessimistic
 * bound: a ratio that moved past the clip in the direction the advantage rewards earns no more.
 * clipFraction = maskedMean(clipped term > unclipped term), TRL's policy/clipfrac.
 */
export function ppoClippedLoss(inputs: PolicyLossInputs, options: { clipRange?: number } = {}): { loss: tf.Scalar; clipFraction: tf.Scalar } {
  const c = options.clipRange ?? 0.2;
  if (!(c > 0)) throw new Error(`ppoClippedLoss: clipRange must be > 0, got ${c}`);
  checkShapes('ppoClippedLoss', { ...inputs });
  return tf.tidy(() => {
    const mask = inputs.mask.toFloat();
    const ratio = inputs.logProbs.sub(inputs.oldLogProbs).exp(); // [B, T]
    const unclipped = inputs.advantages.neg().mul(ratio);
    const clipped = inputs.advantages.neg().mul(ratio.clipByValue(1 - c, 1 + c));
    return {
      loss: maskedMean(tf.maximum(unclipped, clipped), mask),
      clipFraction: maskedMean(clipped.greater(unclipped).toFloat(), mask),
    };
  });
}

export interface ValueLossInputs {
  /** The critic's current predictions, [B, T]. */
  values: tf.Tensor2D;
  /** Its predictions when the batch was sampled (constants), [B, T]. */
  oldValues: tf.Tensor2D;
  returns: tf.Tensor2D;
  mask: tf.Tensor2D;
}

/**
 * Clipped value loss, as TRL: the prediction may move at most clipRangeValue from oldValues,
 * loss = 0.5 * maskedMean(max((v - R)^2, (clip(v, old - c, old + c) - R)^2)); taking the max
 * keeps the clip pessimistic, like the policy's. clipFraction is TRL's val/clipfrac.
 */
export function clippedValueLoss(inputs: ValueLossInputs, options: { clipRangeValue?: number } = {}): { loss: tf.Scalar; clipFraction: tf.Scalar } {
  const c = options.clipRangeValue ?? 0.2;
  if (!(c > 0)) throw new Error(`clippedValueLoss: clipRangeValue must be > 0, got ${c}`);
  checkShapes('clippedValueLoss', { ...inputs });
  return tf.tidy(() => {
    const mask = inputs.mask.toFloat();
    const { values, oldValues, returns } = inputs;
    const clippedValues = tf.minimum(tf.maximum(values, oldValues.sub(c)), oldValues.add(c)); // bounds differ per token
    const unclipped = values.sub(returns).square();
    const clipped = clippedValues.sub(returns).square();
    return {
      loss: maskedMean(tf.maximum(unclipped, clipped), mask).mul(0.5) as tf.Scalar,
      clipFraction: maskedMean(clipped.greater(unclipped).toFloat(), mask),
    };
  });
}

export interface RewardInputs {
  /** Per-token KL to the reference, [B][T] (0 off the answer). */
  kl: number[][];
  /** 1 where a sampled answer token is predicted, [B][T]. */
  mask: number[][];
  /** The reward model's score per answer, [B]. */
  scores: number[];
  /** The score's per-position shares [B][T] (token credit); absent: the whole score at the last token. */
  tokenScores?: number[][];
  klCoef: number;
}

/**
 * PPO's per-token rewards: -klCoef x KL at every token, plus the reward model's score, all of it
 * at the answer's last token (InstructGPT) or, with token credit, each answer position's share,
 * where shares fall outside the sampled tokens (the end-of-turn the policy did not choose) going
 * to the last one, so a row's rewards still sum to score - klCoef x KL.
 */
export function perTokenRewards({ kl, mask, scores, tokenScores, klCoef }: RewardInputs): number[][] {
  return kl.map((row, r) => {
    const m = mask[r]!;
    const last = m.lastIndexOf(1);
    const shares = tokenScores?.[r];
    const paid = shares ? row.map((_, t) => (m[t] ? shares[t]! : 0)) : row.map((_, t) => (t === last ? scores[r]! : 0));
    if (shares && last >= 0) paid[last]! += scores[r]! - paid.reduce((a, x) => a + x, 0);
    return row.map((k, t) => -klCoef * k + paid[t]!);
  });
}
