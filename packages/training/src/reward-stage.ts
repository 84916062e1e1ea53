import * as tf from '@tensorflow/tfjs';
import { ModuleGroup, Rng } from '@mllm/core';
import type { PreferencePair, PreferenceTask } from '@mllm/data';
import { withAuxLoss, type MultimodalModel } from '@mllm/model';
import { bradleyTerryLoss } from './dpo-losses';
import { HELD_OUT_BATCHES, heldOutPreference, pairBatch, preferenceBatch, rankedRight, type PreferenceMix } from './preference-batch';
import { RewardModel } from './reward-model';
import { sampledPreferencePairs } from './sampled-pairs';
import type { StageConfig, TrainableModule } from './run-config';
import { batchTokens, copyModel, moduleOf, scalarValue, type AlignmentContext, type StageObjective } from './stage-objective';
import type { StageData } from './stage-data';

type RewardStage = Extract<StageConfig, { type: 'reward' }>;


/**
 * Reward-model training (InstructGPT): a copy of the instruction-tuned policy with a scalar
 * head learns the Bradley-Terry preference between chosen and rejected answers. The policy
 * itself is left as it is; the trained reward model goes into `context.rewardModel` for PPO.
 */
export function rewardObjective(
  stage: RewardStage,
  index: number,
  model: MultimodalModel,
  data: StageData,
  context: AlignmentContext,
  trains: TrainableModule[],
  resumeExtra?: Record<string, tf.Tensor>,
): StageObjective {
  const ratio = stage.pooling === 'ratio' ? { reference: copyModel(model, context), beta: stage.beta } : undefined;
  const rewardModel = new RewardModel(copyModel(model, context), new Rng(data.seed).fork(`stage${index}:reward-head`), stage.pooling, ratio);
  const extra = new ModuleGroup({ reward_model: rewardModel });
  if (resumeExtra) extra.loadStateDict(resumeExtra, { source: 'reward stage state' });
  rewardModel.freeze();
  for (const which of trains) moduleOf(rewardModel.model, which).unfreeze();
  if (stage.pooling !== 'ratio') rewardModel.score.unfreeze(); // a ratio reward has no head to train
  model.freeze(); // the policy is not this stage's to change
  const mix: PreferenceMix = { kinds: stage.kinds, tasks: stage.tasks };

  /** A training batch: by the `sampled` share, the policy's own answers ranked by the labeller; else synthetic pairs. */
  const trainingPairs = (step: number): PreferencePair[] => {
    const rng = data.rngFor(index, step, 'train');
    const sampled = stage.sampled;
    if (sampled && sampled.share > 0) {
      const side = rng.fork('sampled');
      if (side.next() < sampled.share) {
        const pairs = sampledPreferencePairs(model, data, side, 'train', stage.batchSize, side.weighted(mix.tasks), sampled);
        if (pairs.length > 0) return pairs; // every answer judged alike: a synthetic batch instead
      }
    }
    return preferenceBatch(data, rng, 'train', stage.batchSize, mix);
  };

  const pairLoss = (step: number, split: 'train' | 'val', task?: PreferenceTask) =>
    scorePairs(split === 'train' ? trainingPairs(step) : preferenceBatch(data, data.rngFor(index, step, split), split, stage.batchSize, mix, task), split);

  const scorePairs = (pairs: PreferencePair[], split: 'train' | 'val') => {
    const batch = pairBatch(rewardModel.model, data, pairs);
    const b = pairs.length;
    const stats: Record<string, number> = {};
    const correct: boolean[] = [];
    const loss = () => {
      const { scores, aux } = rewardModel.scoresWithAux(batch); // [2B]: chosen rows, then rejected rows
      const chosen = scores.slice(0, b);
      const rejected = scores.slice(b, b);
      const out = bradleyTerryLoss(chosen, rejected, { centerRewardsCoefficient: stage.centerRewardsCoefficient });
      stats.accuracy = scalarValue(out.accuracy);
      stats.margin = scalarValue(chosen.sub(rejected).mean());
      if (split === 'val') correct.splice(0, correct.length, ...rankedRight(chosen, rejected)); // one more read-back, held out only
      return withAuxLoss(out.loss, aux, stats);
    };
    return { loss, stats, tokens: batchTokens(batch), kinds: pairs.map((p) => p.kind), correct };
  };

  /** Held-out on-policy pairs: HELD_OUT_BATCHES batches of each task with weight > 0, from validation scenes. */
  let heldOutSampled: PreferencePair[][] | undefined;
  const sampledHeldOut = () =>
    (Object.keys(mix.tasks) as PreferenceTask[])
      .filter((task) => mix.tasks[task] > 0)
      .flatMap((task) => Array.from({ length: HELD_OUT_BATCHES }, (_, k) => sampledPreferencePairs(model, data, data.rngFor(index, k, 'val').fork(`sampled:${task}`), 'val', stage.batchSize, task, stage.sampled!)))
      .filter((pairs) => pairs.length > 0);

  return {
    params: rewardModel.trainableParameters().map(([name, p]) => [`reward_model.${name}`, p]),
    extra,
    lossAt: (step) => pairLoss(step, 'train'),
    validate: () => {
      const held = heldOutPreference(mix, HELD_OUT_BATCHES, pairLoss);
      if (!stage.sampled) return held;
      // the policy is frozen here: its held-out answers are sampled and judged once, then reused
      heldOutSampled ??= sampledHeldOut();
      let right = 0;
      for (const pairs of heldOutSampled) {
        const scored = scorePairs(pairs, 'val');
        tf.dispose(tf.tidy(() => scored.loss()));
        right += scored.correct.filter(Boolean).length;
      }
      const n = heldOutSampled.reduce((s, p) => s + p.length, 0);
      return { ...held, stats: { ...held.stats, 'rewardAccuracy.sampled': n > 0 ? right / n : NaN, sampledPairs: n } };
    },
    // the reward model outlives the stage: PPO scores with it
    dispose: () => {
      rewardModel.freeze().eval();
      context.rewardModel?.dispose();
      context.rewardModel = rewardModel;
    },
  };
}
