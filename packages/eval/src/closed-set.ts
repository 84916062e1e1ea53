/**
 * Closed-set accuracy: exact match between normalised reply and normalised reference
 * (VQA-style benchmarks with a fixed answer set; the Shapes world's existence, colour,
 * count and spatial questions). Reported overall and per question type.
 */
import { normalizeAnswer } from './answer';
import { safeRatio } from './ratio';

export interface ClosedSetItem {
  /** Question type, e.g. 'existence' | 'color' | 'count' | 'spatial'. */
  type: string;
  /** Reference answer. */
  answer: string;
  /** The model's raw reply. */
  prediction: string;
}

export interface TypeAccuracy {
  accuracy: number;
  n: number;
}

export interface ClosedSetResult {
  accuracy: number;
  /** Per question type, in order of first appearance. */
  byType: Record<string, TypeAccuracy>;
  n: number;
}

/** Whether a reply matches the reference after `normalizeAnswer` on both ("two ." == "Two"). */
export function isCorrect(answer: string, prediction: string): boolean {
  return normalizeAnswer(answer) === normalizeAnswer(prediction);
}

/**
 * Exact-match accuracy overall and by type.
 *
 *   closedSetAccuracy([{ type: 'count', answer: 'two', prediction: 'Two .' }])
 *   // { accuracy: 1, byType: { count: { accuracy: 1, n: 1 } }, n: 1 }
 */
export function closedSetAccuracy(items: readonly ClosedSetItem[]): ClosedSetResult {
  const tally = new Map<string, { correct: number; n: number }>();
  let correct = 0;
  for (const { type, answer, prediction } of items) {
    const t = tally.get(type) ?? { correct: 0, n: 0 };
    tally.set(type, t);
    t.n++;
    if (isCorrect(answer, prediction)) {
      t.correct++;
      correct++;
    }
  }
  const byType: Record<string, TypeAccuracy> = {};
  for (const [type, t] of tally) byType[type] = { accuracy: safeRatio(t.correct, t.n), n: t.n };
  return { accuracy: safeRatio(correct, items.length), byType, n: items.length };
}
