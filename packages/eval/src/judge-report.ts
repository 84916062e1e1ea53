/**
 * What a run reports of its judges (`eval.judge` in report.json): the HaELM-style judge's
 * agreement with the exact checker, and the rubric judge's rank correlation with the exact
 * scores, each on held-out responses, whole and per source of the responses.
 */
import { accuracy, cohenKappa } from './agreement';
import type { RubricAgreement } from './rubric-judge';

/** A yes/no judge against the exact labels. */
export interface BinaryAgreement {
  accuracy: number;
  /** Cohen's kappa (NaN, written null, when both gave one label to everything). */
  kappa: number;
  n: number;
  /** Share of the responses the exact checker calls hallucinated (kappa means most where this is far from 0 and 1). */
  hallucinated: number;
}

export function binaryAgreement(predicted: readonly boolean[], exact: readonly boolean[]): BinaryAgreement {
  return {
    accuracy: accuracy(predicted, exact),
    kappa: cohenKappa(predicted, exact),
    n: exact.length,
    hallucinated: exact.length === 0 ? NaN : exact.filter(Boolean).length / exact.length,
  };
}

/** How a learned judge was made: steps, last loss, seconds. */
export interface JudgeTraining {
  steps: number;
  finalLoss: number;
  seconds: number;
}

export interface HaelmReport extends BinaryAgreement {
  /** The same per source of held-out responses: `synthetic` (edited test-scene descriptions), `model` (the run's own descriptions). */
  bySource: Record<string, BinaryAgreement>;
  training: JudgeTraining;
  /** The yes - no margin above which the judge calls a fact false (0: its raw argmax). */
  verdictThreshold?: number;
  /** All held-out responses again, judged at the raw argmax (margin 0), when verdictThreshold is not 0. */
  atZeroMargin?: BinaryAgreement;
}

export interface RubricReport extends RubricAgreement {
  /** Which judge scored: "local judge LM" or the endpoint's model and URL. */
  judge: string;
  bySource: Record<string, RubricAgreement>;
  training?: JudgeTraining;
}

export interface JudgeReport {
  haelm?: HaelmReport;
  rubric?: RubricReport;
}

/** The detailed descriptions of an evaluation, with their scenes, as a judge scores them. */
export type JudgeHook = (descriptions: { sceneId: string; text: string }[]) => Promise<JudgeReport>;
