/**
 * Zero-shot held-in / held-out accuracy (FLAN, InstructBLIP): tasks the instruction data never
 * tuned on, and phrasings it never used, scored apart from the held-in ones. `tasks` and
 * `phrasings` are the shape the issue tracker's `eval.heldOut` names; `byTask` and `n` beside.
 */
import { isCorrect } from './closed-set';
import { safeRatio } from './ratio';

export type HeldSplit = 'heldIn' | 'heldOut';

export interface HeldOutItem {
  task: string;
  /** Whether the instruct data tuned on this task. */
  taskSplit: HeldSplit;
  /** Whether the question's phrasing is one the run trained on. */
  phrasingSplit: HeldSplit;
  answer: string;
  prediction: string;
}

export interface HeldOutResult {
  /** Trained phrasings only: held-in tasks against held-out tasks (asked zero-shot). */
  tasks: { heldIn: number; heldOut: number };
  /** Held-in tasks only: trained phrasings against held-out phrasings of the same questions. */
  phrasings: { heldIn: number; heldOut: number };
  /** Per task: its split, accuracy in trained phrasings (`heldIn`) and, for a held-in task, in held-out ones. */
  byTask: Record<string, { split: HeldSplit; heldIn: number; heldOut?: number }>;
  /** Questions behind each figure. */
  n: { heldInTasks: number; heldOutTasks: number; heldOutPhrasings: number };
}

function accuracy(items: readonly HeldOutItem[]): number {
  return safeRatio(items.filter((i) => isCorrect(i.answer, i.prediction)).length, items.length);
}

/**
 * The four accuracies of `eval.heldOut` from answered questions (exact match after
 * normalizeAnswer, as closed-set accuracy scores). An empty group scores 0.
 *
 *   heldOutAccuracy([{ task: 'count', taskSplit: 'heldIn', phrasingSplit: 'heldOut', answer: 'two', prediction: 'two' }])
 *   // phrasings.heldOut 1, the other three 0
 */
export function heldOutAccuracy(items: readonly HeldOutItem[]): HeldOutResult {
  const trained = items.filter((i) => i.phrasingSplit === 'heldIn');
  const heldInTasks = trained.filter((i) => i.taskSplit === 'heldIn');
  const heldOutTasks = trained.filter((i) => i.taskSplit === 'heldOut');
  const heldOutPhrasings = items.filter((i) => i.taskSplit === 'heldIn' && i.phrasingSplit === 'heldOut');
  const byTask: HeldOutResult['byTask'] = {};
  for (const task of [...new Set(items.map((i) => i.task))]) {
    const of = items.filter((i) => i.task === task);
    const unseen = of.filter((i) => i.phrasingSplit === 'heldOut');
    byTask[task] = { split: of[0]!.taskSplit, heldIn: accuracy(of.filter((i) => i.phrasingSplit === 'heldIn')), ...(unseen.length > 0 && { heldOut: accuracy(unseen) }) };
  }
  return {
    tasks: { heldIn: accuracy(heldInTasks), heldOut: accuracy(heldOutTasks) },
    phrasings: { heldIn: accuracy(heldInTasks), heldOut: accuracy(heldOutPhrasings) },
    byTask,
    n: { heldInTasks: heldInTasks.length, heldOutTasks: heldOutTasks.length, heldOutPhrasings: heldOutPhrasings.length },
  };
}
