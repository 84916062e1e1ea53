import * as tf from '@tensorflow/tfjs';
import { MllmError, ModuleGroup, Rng } from '@mllm/core';
import { preferencePairs, type PreferenceTask, type Split } from '@mllm/data';
import { disposeAux, withAuxLoss, type ModelBatch, type MultimodalModel, type TokenizedSample } from '@mllm/model';
import { tokenLogProbs } from './dpo-losses';
import { askedSample, sampleAnswers } from './policy-sampling';
import { clippedValueLoss, gaeBatch, perTokenKl, perTokenRewards, ppoClippedLoss } from './ppo-losses';
import { ValueHead } from './reward-model';
import type { StageConfig } from './run-config';
import { batchTokens, copyModel, scalarValue, type AlignmentContext, type StageObjective } from './stage-objective';
import type { StageData } from './stage-data';

type PpoStage = Extract<StageConfig, { type: 'ppo' }>;

/** A batch of sampled answers with everything PPO's updates hold fixed. Rows: B; positions: T. */
interface Rollout {
  batch: ModelBatch;
  /** 1 on the positions whose target the policy sampled (the answer and its end-of-turn token). */
  mask: number[][];
  oldLogProbs: number[][];
  oldValues: number[][];
  advantages: number[][];
  returns: number[][];
  stats: Record<string, number>;
  tokens: number;
}

/**
 * RLHF with PPO (Ouyang et al. 2022; Ziegler et al. 2019), as TRL's PPOTrainer: the policy
 * answers prompts of the preference tasks by sampling; the reward model scores each answer;
 * a per-token KL penalty to the frozen reference (the policy at the stage's start) is
 * subtracted; a value head on the policy's trunk gives GAE advantages; the clipped surrogate
 * plus the clipped value loss update policy and value head. Every `epochs` optimizer steps
 * reuse one batch of rollouts, and the next step samples a new one.
 */
export function ppoObjective(stage: PpoStage, index: number, model: MultimodalModel, data: StageData, context: AlignmentContext, resumeExtra?: Record<string, tf.Tensor>): StageObjective {
  const rewardModel = context.rewardModel;
  if (!rewardModel) throw new MllmError('ppo: there is no reward model; a "reward" stage must run before "ppo" in the same run');
  const reference = copyModel(model, context).eval();
  const valueHead = new ValueHead(model.llm.dim, new Rng(data.seed).fork(`stage${index}:value-head`));
  const extra = new ModuleGroup({ reference, value_head: valueHead });
  if (resumeExtra) extra.loadStateDict(resumeExtra, { source: 'ppo stage state' });
  const { special } = data.tokenizer;
  let klCoef = stage.klCoef;
  let rollout: Rollout | undefined;

  /** Prompts as the preference data asks them, so the reward model scores the answers it was trained on. */
  const prompts = (rng: Rng, split: Split, count: number): TokenizedSample[] => {
    const task: PreferenceTask = rng.weighted(stage.tasks);
    return data.pickScenes(rng, split, count).map((scene) => {
      const pair = preferencePairs(scene, rng, { tasks: [task] })[0]!;
      return askedSample(data, pair.prompt, pair.image);
    });
  };

  /** Samples answers and scores them: rewards and KL only, no advantages (held-out use). */
  const sample = (rng: Rng, split: Split, temperature: number) => {
    const asked = prompts(rng, split, stage.batchSize);
    const answers = sampleAnswers(model, data, asked, { maxNewTokens: stage.maxNewTokens, temperature, rng: rng.fork('sample') });
    // the stop token the policy chose is an action; a cut-off answer gets end-of-turn appended, not sampled
    const samples = asked.map((p, r) => {
      const answer = answers[r]!;
      const stopped = answer.length < stage.maxNewTokens;
      return {
        ids: [...p.ids, ...answer, special.end, special.eos],
        lossMask: [...p.ids.map(() => 0), ...answer.map(() => 1), stopped ? 1 : 0, 0],
        images: p.images,
      };
    });
    const batch = model.collate(samples);
    const mask = batch.weights;
    // the reward model reads the whole turn, as in its training pairs: answer, end, eos
    const scoreBatch = model.collate(samples.map((s, r) => ({ ...s, lossMask: s.ids.map((_, k) => (k >= asked[r]!.ids.length ? 1 : 0)) })));
    const [b, t] = [batch.inputIds.length, batch.inputIds[0]!.length];
    // token credit reads the score as its per-position shares: one reward-model forward either way
    const tokenScores = stage.credit === 'token' ? (tf.tidy(() => rewardModel.tokenScores(scoreBatch)).arraySync() as number[][]) : undefined;
    const scores = tokenScores ? tokenScores.map((row) => row.reduce((a, x) => a + x, 0)) : tf.tidy(() => rewardModel.scores(scoreBatch)).dataSync().slice();
    const refLogProbs = tf.tidy(() => tokenLogProbs(reference.forward(batch), tf.tensor2d(batch.targets, [b, t], 'int32')));
    const { logits, hidden } = tf.tidy(() => {
      const { aux, ...out } = model.forwardWithHidden(batch);
      disposeAux(aux);
      return out;
    });
    const oldLogProbs = tf.tidy(() => tokenLogProbs(logits, tf.tensor2d(batch.targets, [b, t], 'int32')));
    const values = tf.tidy(() => valueHead.forward(hidden));
    const kl = tf.tidy(() => perTokenKl(oldLogProbs, refLogProbs).mul(tf.tensor2d(mask, [b, t])));
    const result = {
      batch,
      mask,
      scores: Array.from(scores),
      tokenScores,
      kl: kl.arraySync() as number[][],
      oldLogProbs: oldLogProbs.arraySync() as number[][],
      oldValues: values.arraySync() as number[][],
      answerLength: answers.reduce((s, a) => s + a.length, 0) / answers.length,
    };
    tf.dispose([logits, hidden, refLogProbs, oldLogProbs, values, kl]);
    return result;
  };

  const collect = (round: number): Rollout => {
    const s = sample(data.rngFor(index, round, 'train'), 'train', stage.temperature);
    const rewards = perTokenRewards({ kl: s.kl, mask: s.mask, scores: s.scores, tokenScores: s.tokenScores, klCoef });
    const { advantages, returns } = gaeBatch(rewards, s.oldValues, s.mask, { gamma: stage.gamma, lambda: stage.lambda });
    const rolloutKl = mean(s.kl.map((row) => row.reduce((a, c) => a + c, 0)));
    const stats = { score: mean(s.scores), kl: rolloutKl, klCoef, answerLength: s.answerLength };
    if (stage.klTarget !== undefined) {
      // Ziegler et al.'s proportional controller, error clipped to +-20%
      const error = Math.min(Math.max(rolloutKl / stage.klTarget - 1, -0.2), 0.2);
      klCoef *= 1 + (error * stage.batchSize) / stage.klHorizon;
    }
    return {
      batch: s.batch,
      mask: s.mask,
      oldLogProbs: s.oldLogProbs,
      oldValues: s.oldValues,
      advantages: whiten(advantages, s.mask),
      returns,
      stats,
      tokens: batchTokens(s.batch),
    };
  };

  return {
    params: [...model.trainableParameters(), ...valueHead.namedParameters('value_head.')],
    extra,
    lossAt: (step) => {
      if (step % stage.epochs === 0 || !rollout) rollout = collect(Math.floor(step / stage.epochs));
      const r = rollout;
      const stats: Record<string, number> = { ...r.stats };
      const [b, t] = [r.batch.inputIds.length, r.batch.inputIds[0]!.length];
      const loss = () => {
        const { logits, hidden, aux } = model.forwardWithHidden(r.batch);
        const m = tf.tensor2d(r.mask, [b, t]);
        const policy = ppoClippedLoss(
          { logProbs: tokenLogProbs(logits, tf.tensor2d(r.batch.targets, [b, t], 'int32')), oldLogProbs: tf.tensor2d(r.oldLogProbs, [b, t]), advantages: tf.tensor2d(r.advantages, [b, t]), mask: m },
          { clipRange: stage.clipRange },
        );
        const value = clippedValueLoss(
          { values: valueHead.forward(hidden), oldValues: tf.tensor2d(r.oldValues, [b, t]), returns: tf.tensor2d(r.returns, [b, t]), mask: m },
          { clipRangeValue: stage.clipRangeValue },
        );
        stats.policyLoss = scalarValue(policy.loss);
        stats.clipFraction = scalarValue(policy.clipFraction);
        stats.valueLoss = scalarValue(value.loss);
        return withAuxLoss(policy.loss.add(value.loss.mul(stage.valueCoef)) as tf.Scalar, aux, stats);
      };
      return { loss, stats, tokens: r.tokens };
    },
    // held out: greedy answers to validation prompts; the loss is minus the mean reward
    validate: () => {
      const s = sample(data.rngFor(index, 0, 'val'), 'val', 0);
      const score = mean(s.scores);
      return { loss: -score, stats: { score, kl: mean(s.kl.map((row) => row.reduce((a, c) => a + c, 0))), answerLength: s.answerLength } };
    },
    dispose: () => extra.dispose(),
  };
}

function mean(xs: number[]): number {
  return xs.reduce((a, c) => a + c, 0) / Math.max(xs.length, 1);
}

/** Advantages shifted and scaled to mean 0, std 1 over the masked positions (TRL's masked_whiten). */
export function whiten(values: number[][], mask: number[][]): number[][] {
  const kept = values.flatMap((row, r) => row.filter((_, t) => mask[r]![t] !== 0));
  const mu = mean(kept);
  const std = Math.sqrt(mean(kept.map((v) => (v - mu) ** 2))) + 1e-8;
  return values.map((row, r) => row.map((v, t) => (mask[r]![t] !== 0 ? (v - mu) / std : 0)));
}
