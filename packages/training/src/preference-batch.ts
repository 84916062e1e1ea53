import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@mllm/core';
import { preferencePairs, type HallucinationKind, type PreferencePair, type PreferenceTask, type Scene, type Split } from '@mllm/data';
import type { MultimodalModel, TokenizedSample, ModelBatch } from '@mllm/model';
import type { MoeAux } from '@mllm/core';
import { sequenceLogProbs } from './dpo-losses';
import type { StageData } from './stage-data';

export interface PreferenceMix {
  kinds: Record<HallucinationKind, number>;
  tasks: Record<PreferenceTask, number>;
}

/**
 * A batch of Shapes-world preference pairs, one per scene of `split`, all of one task (drawn
 * by weight unless given), so chosen and rejected answers pad to similar lengths.
 */
export function preferenceBatch(data: StageData, rng: Rng, split: Split, count: number, mix: PreferenceMix, task?: PreferenceTask): PreferencePair[] {
  const chosenTask = task ?? rng.weighted(mix.tasks);
  return data.pickScenes(rng, split, count).map((scene: Scene) => preferencePairs(scene, rng, { kinds: mix.kinds, tasks: [chosenTask] })[0]!);
}

/** A pair's prompt with one of its answers, tokenized by the chat template (loss mask on the answer). */
export function answerSample(data: StageData, pair: PreferencePair, answer: 'chosen' | 'rejected'): TokenizedSample {
  return data.tokenize({ id: pair.id, image: pair.image, conversations: [{ from: 'human', value: pair.prompt }, { from: 'gpt', value: pair[answer] }] });
}

/** Chosen answers then rejected ones, one batch of 2B rows, so each model runs once per step. */
export function pairBatch(model: MultimodalModel, data: StageData, pairs: PreferencePair[]): ModelBatch {
  return model.collate([...pairs.map((p) => answerSample(data, p, 'chosen')), ...pairs.map((p) => answerSample(data, p, 'rejected'))]);
}

/**
 * `batchLogProbs` of a policy being trained, with its MoE LLM's auxiliaries (absent for a dense
 * LLM); the stage adds them to its loss with `withAuxLoss`.
 */
export function policyLogProbs(model: MultimodalModel, batch: ModelBatch): { logps: tf.Tensor1D; aux?: MoeAux } {
  const { logits, hidden, aux } = model.forwardWithHidden(batch);
  hidden.dispose();
  const [b, t] = logits.shape;
  return { logps: sequenceLogProbs(logits, tf.tensor2d(batch.targets, [b, t], 'int32'), tf.tensor2d(batch.weights, [b, t])), ...(aux && { aux }) };
}

/** Summed response log-probs of every row of a collated batch: [B]. */
export function batchLogProbs(model: MultimodalModel, batch: ModelBatch): tf.Tensor1D {
  return tf.tidy(() => {
    const logits = model.forward(batch);
    const [b, t] = logits.shape;
    return sequenceLogProbs(logits, tf.tensor2d(batch.targets, [b, t], 'int32'), tf.tensor2d(batch.weights, [b, t]));
  });
}

/** For each row, the position whose hidden state has read the whole answer (the last trained target's input). */
export function lastResponsePositions(batch: Pick<ModelBatch, 'weights'>): number[] {
  return batch.weights.map((row, r) => {
    const last = row.lastIndexOf(1);
    if (last < 0) throw new Error(`row ${r} has no response tokens to score; every sample needs an answer`);
    return last;
  });
}

/** Rows of hidden [B, T, D] at one position per row: [B, D]. */
export function hiddenAt(hidden: tf.Tensor3D, positions: number[]): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, t] = hidden.shape;
    // a one-hot product instead of gather: gather has no gradient on wasm
    const pick = tf.tensor3d(positions.map((p) => Array.from({ length: t }, (_, k) => [k === p ? 1 : 0])), [b, t, 1]);
    return hidden.mul(pick).sum(1) as tf.Tensor2D;
  });
}

/**
 * Held-out batches per task with weight > 0. At batch size 16 that is 128 pairs per task: an
 * accuracy near 0.9 is then known to about +-0.027 per task and +-0.015 over three tasks (one
 * standard error); with 2 batches (96 pairs in all) 0.875 and 0.90 were indistinguishable.
 */
export const HELD_OUT_BATCHES = 8;

/** One pair batch's loss for a held-out pass, with which pairs the rewards ranked right (filled when `loss` runs). */
export interface ScoredPairs {
  loss: () => tf.Scalar;
  stats: Record<string, number>;
  /** The hallucination kind of each pair's rejected answer. */
  kinds: HallucinationKind[];
  /** Per pair: chosen reward > rejected reward (a tie is wrong); written by `loss()`. */
  correct: boolean[];
}

/** Per pair, whether the chosen answer's reward beats the rejected one's: chosen, rejected [B]. */
export function rankedRight(chosen: tf.Tensor1D, rejected: tf.Tensor1D): boolean[] {
  return Array.from(tf.tidy(() => chosen.greater(rejected)).dataSync(), (v) => v === 1);
}

/**
 * A held-out pass: `batches` fixed validation batches of each task with weight > 0, averaged;
 * `rewardAccuracy` over all of them, `rewardAccuracy.<task>` per task, and
 * `rewardAccuracy.<kind>` per hallucination kind of the rejected answers (kinds with weight > 0),
 * which says which kind of hallucination the rewards cannot tell from the truth.
 */
export function heldOutPreference(
  mix: PreferenceMix,
  batches: number,
  pairLoss: (step: number, split: 'val', task: PreferenceTask) => ScoredPairs,
): { loss: number; stats: Record<string, number> } {
  const tasks = (Object.keys(mix.tasks) as PreferenceTask[]).filter((t) => mix.tasks[t] > 0);
  const sums = { loss: 0, accuracy: 0, margin: 0 };
  const byTask: Record<string, number> = {};
  const byKind = new Map<HallucinationKind, { right: number; pairs: number }>();
  let n = 0;
  for (const task of tasks) {
    let correct = 0;
    for (let k = 0; k < batches; k++) {
      const scored = pairLoss(n, 'val', task);
      sums.loss += tf.tidy(() => scored.loss().dataSync()[0]!);
      sums.accuracy += scored.stats.accuracy!;
      correct += scored.stats.accuracy!;
      sums.margin += scored.stats.margin!;
      scored.kinds.forEach((kind, i) => {
        const tally = byKind.get(kind) ?? { right: 0, pairs: 0 };
        tally.pairs++;
        if (scored.correct[i]) tally.right++;
        byKind.set(kind, tally);
      });
      n++;
    }
    byTask[`rewardAccuracy.${task}`] = correct / batches;
  }
  const kindStats = Object.fromEntries([...byKind].map(([kind, t]) => [`rewardAccuracy.${kind}`, t.right / t.pairs]));
  return { loss: sums.loss / n, stats: { rewardAccuracy: sums.accuracy / n, margin: sums.margin / n, ...byTask, ...kindStats } };
}
