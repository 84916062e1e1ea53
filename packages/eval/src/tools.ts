import { isCorrect } from './closed-set';

/**
 * Scores LLM-aided visual reasoning: questions answered by a controller that calls vision
 * tools, against the same questions answered directly by the model (no tools). Names are
 * fixed (`eval.tools` of report.json): sweeps and tables read them.
 */

/** A question with its reference answer and type ("spatial", "count", ...). */
export interface ToolsItem {
  type: string;
  answer: string;
}

/** What a controller session made of one question (undefined answer: it was still calling at its limit). */
export interface ToolsOutcomeSummary {
  answer?: string;
  calls: number;
  parseFailures: number;
  errors: number;
}

export interface ToolsAccuracy {
  accuracy: number;
  byType: Record<string, number>;
}

export interface ToolsResult extends ToolsAccuracy {
  /** Mean tool calls per question (bad calls included). */
  callsPerAnswer: number;
  /** Controller replies that started a call the session could not read, over all questions. */
  parseFailures: number;
  /** Calls answered with an error (unknown tool, bad arguments, parse failures included). */
  toolErrors: number;
  /** Questions left without an answer when the controller ran out of calls. */
  unanswered: number;
  /** Questions asked, by type. */
  questions: Record<string, number>;
  /** How the controller learned tool use: finetuned on traces, or prompted with demonstrations only. */
  paradigm: 'finetuned' | 'training-free';
  /** The same questions answered by the model alone. */
  withoutTools: ToolsAccuracy;
  /** Share of test cells (4 per image) the detector behind the tools reads right. */
  detectorCellAccuracy: number;
  /** A few whole traces (one per question type), each line a role and its text. */
  samples?: { type: string; answer: string; trace: { role: string; text: string }[] }[];
}

/** Exact-match accuracy overall and by type of `predictions` (undefined: unanswered, wrong). */
export function toolsAccuracy(items: readonly ToolsItem[], predictions: readonly (string | undefined)[]): ToolsAccuracy {
  if (items.length !== predictions.length) throw new Error(`toolsAccuracy: ${items.length} items but ${predictions.length} predictions`);
  const right: Record<string, number> = {};
  const total: Record<string, number> = {};
  let correct = 0;
  items.forEach((item, i) => {
    const ok = predictions[i] !== undefined && isCorrect(item.answer, predictions[i]!);
    total[item.type] = (total[item.type] ?? 0) + 1;
    right[item.type] = (right[item.type] ?? 0) + (ok ? 1 : 0);
    if (ok) correct++;
  });
  const byType = Object.fromEntries(Object.keys(total).sort().map((t) => [t, right[t]! / total[t]!]));
  return { accuracy: items.length > 0 ? correct / items.length : 0, byType };
}

/** The `eval.tools` section from the controller's outcomes and the model's direct answers to the same items. */
export function scoreTools(
  items: readonly ToolsItem[],
  outcomes: readonly ToolsOutcomeSummary[],
  direct: readonly string[],
  about: { paradigm: ToolsResult['paradigm']; detectorCellAccuracy: number },
): ToolsResult {
  if (outcomes.length !== items.length || direct.length !== items.length) throw new Error(`scoreTools: ${items.length} items, ${outcomes.length} outcomes, ${direct.length} direct answers`);
  const sum = (f: (o: ToolsOutcomeSummary) => number) => outcomes.reduce((s, o) => s + f(o), 0);
  const questions: Record<string, number> = {};
  for (const item of items) questions[item.type] = (questions[item.type] ?? 0) + 1;
  return {
    ...toolsAccuracy(
      items,
      outcomes.map((o) => o.answer),
    ),
    callsPerAnswer: items.length > 0 ? sum((o) => o.calls) / items.length : 0,
    parseFailures: sum((o) => o.parseFailures),
    toolErrors: sum((o) => o.errors),
    unanswered: outcomes.filter((o) => o.answer === undefined).length,
    questions,
    paradigm: about.paradigm,
    withoutTools: toolsAccuracy(items, direct),
    detectorCellAccuracy: about.detectorCellAccuracy,
  };
}
