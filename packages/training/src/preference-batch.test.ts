import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import type { HallucinationKind, PreferenceTask } from '@mllm/data';
import { heldOutPreference, rankedRight, type ScoredPairs } from './preference-batch';

describe('held-out preference accuracy', () => {
  it('ranks a pair right only when the chosen reward is strictly higher', () => {
    expect(rankedRight(tf.tensor1d([1, 0.5, -2, 3]), tf.tensor1d([0, 0.5, -1, 2.9]))).toEqual([true, false, false, true]);
  });

  it('averages per task and counts per hallucination kind over every held-out pair', () => {
    // two batches per task; each batch: its kinds and which pairs the rewards ranked right
    const batches: Record<PreferenceTask, { kinds: HallucinationKind[]; correct: boolean[] }[]> = {
      caption: [
        { kinds: ['existence', 'relationship'], correct: [true, false] },
        { kinds: ['existence', 'existence'], correct: [true, true] },
      ],
      detail: [
        { kinds: ['attribute', 'relationship'], correct: [true, true] },
        { kinds: ['relationship', 'existence'], correct: [false, true] },
      ],
      question: [],
    };
    const seen: string[] = [];
    const pairLoss = (step: number, split: 'val', task: PreferenceTask): ScoredPairs => {
      const batch = batches[task][seen.filter((s) => s === task).length]!;
      seen.push(task);
      const correct: boolean[] = [];
      const accuracy = batch.correct.filter(Boolean).length / batch.correct.length;
      return { loss: () => (correct.push(...batch.correct), tf.scalar(step)), stats: { accuracy, margin: 1 }, kinds: batch.kinds, correct };
    };
    const mix = { tasks: { caption: 1, detail: 2, question: 0 }, kinds: { existence: 1, attribute: 1, relationship: 1 } };
    const { loss, stats } = heldOutPreference(mix, 2, pairLoss);
    expect(seen).toEqual(['caption', 'caption', 'detail', 'detail']); // a task of weight 0 is not asked
    expect(loss).toBeCloseTo((0 + 1 + 2 + 3) / 4, 10);
    expect(stats['rewardAccuracy.caption']).toBeCloseTo(0.75, 10);
    expect(stats['rewardAccuracy.detail']).toBeCloseTo(0.75, 10);
    expect(stats.rewardAccuracy).toBeCloseTo(0.75, 10);
    expect(stats['rewardAccuracy.existence']).toBe(1); // 4 of 4
    expect(stats['rewardAccuracy.attribute']).toBe(1); // 1 of 1
    expect(stats['rewardAccuracy.relationship']).toBeCloseTo(1 / 3, 10); // 1 of 3
  });
});
