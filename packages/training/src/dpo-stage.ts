import * as tf from '@tensorflow/tfjs';
import { ModuleGroup } from '@mllm/core';
import type { PreferenceTask } from '@mllm/data';
import { withAuxLoss, type MultimodalModel } from '@mllm/model';
import { dpoLoss } from './dpo-losses';
import { HELD_OUT_BATCHES, batchLogProbs, heldOutPreference, pairBatch, policyLogProbs, preferenceBatch, rankedRight, type PreferenceMix } from './preference-batch';
import type { StageConfig } from './run-config';
import { batchTokens, copyModel, scalarValue, type AlignmentContext, type StageObjective } from './stage-objective';
import type { StageData } from './stage-data';

type DpoStage = Extract<StageConfig, { type: 'dpo' }>;

/**
 * Direct preference optimisation (Rafailov et al. 2023) on generated preference pairs: the
 * policy is tuned, a frozen copy of it from the start of the stage is the reference. The
 * reference's log-probs are computed outside the gradient tape, so no gradient can reach it.
 */
export function dpoObjective(stage: DpoStage, index: number, model: MultimodalModel, data: StageData, context: AlignmentContext, resumeExtra?: Record<string, tf.Tensor>): StageObjective {
  const reference = copyModel(model, context).eval();
  const extra = new ModuleGroup({ reference });
  if (resumeExtra) extra.loadStateDict(resumeExtra, { source: 'dpo stage state' }); // the reference from the stage's start, not the resumed policy
  const mix: PreferenceMix = { kinds: stage.kinds, tasks: stage.tasks };
  const options = { beta: stage.beta, labelSmoothing: stage.labelSmoothing };

  const pairLoss = (step: number, split: 'train' | 'val', task?: PreferenceTask) => {
    const pairs = preferenceBatch(data, data.rngFor(index, step, split), split, stage.batchSize, mix, task);
    const batch = pairBatch(model, data, pairs);
    const b = pairs.length;
    const ref = tf.tidy(() => batchLogProbs(reference, batch)).dataSync().slice(); // [2B] constants
    const stats: Record<string, number> = {};
    const correct: boolean[] = [];
    const chosenTokens = Math.max(1, batch.weights.slice(0, b).flat().reduce((a, c) => a + c, 0));
    const loss = () => {
      const { logps, aux } = policyLogProbs(model, batch); // [2B]: chosen rows, then rejected rows
      const refs = tf.tensor1d(ref);
      const out = dpoLoss(
        { policyChosen: logps.slice(0, b), policyRejected: logps.slice(b, b), referenceChosen: refs.slice(0, b), referenceRejected: refs.slice(b, b) },
        options,
      );
      stats.chosenReward = scalarValue(out.chosenRewards.mean());
      stats.rejectedReward = scalarValue(out.rejectedRewards.mean());
      stats.margin = scalarValue(out.margin);
      stats.accuracy = scalarValue(out.accuracy);
      if (split === 'val') correct.splice(0, correct.length, ...rankedRight(out.chosenRewards, out.rejectedRewards)); // one more read-back, held out only
      if (stage.sftWeight === 0) return withAuxLoss(out.loss, aux, stats);
      // mean over the chosen answers' tokens, as the instruct stage's loss
      const nll = logps.slice(0, b).sum().neg().div(chosenTokens);
      stats.sftLoss = scalarValue(nll);
      return withAuxLoss(out.loss.add(nll.mul(stage.sftWeight)) as tf.Scalar, aux, stats);
    };
    return { loss, stats, tokens: batchTokens(batch), kinds: pairs.map((p) => p.kind), correct };
  };

  return {
    params: model.trainableParameters(),
    extra,
    lossAt: (step) => pairLoss(step, 'train'),
    validate: () => heldOutPreference(mix, HELD_OUT_BATCHES, pairLoss),
    dispose: () => extra.dispose(),
  };
}
