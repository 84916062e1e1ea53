/**
 * @mllm/eval: closed-set accuracy, POPE and CHAIR against exact ground truth, an evaluation
 * runner over any batched answerer, and report output (SVG line charts, Markdown summaries).
 */
export { normalizeAnswer, yesNo } from './answer';
export type { YesNo } from './answer';
export { parseMentions, categoryKey, sceneCategories, SHAPES_VOCABULARY } from './mentions';
export type { GroundTruthScene, MentionVocabulary } from './mentions';
export { popeMetrics } from './pope';
export type { PopeItem, PopeMetrics } from './pope';
export { chair, checkCaption } from './chair';
export type { CaptionCheck, ChairItem, ChairResult } from './chair';
export { closedSetAccuracy, isCorrect } from './closed-set';
export type { ClosedSetItem, ClosedSetResult, TypeAccuracy } from './closed-set';
export { evaluate, POPE_SAMPLINGS } from './evaluate';
export type { Answerer, DetailReport, EvalReport, EvalSet, EvaluateOptions, PopeSampling } from './evaluate';
export { hallucinationByKind, kindRates, HALLUCINATION_KINDS, KIND_QUESTION_TYPES } from './hallucination-kinds';
export type {
  DescriptionJudge,
  DescriptionJudgement,
  HallucinationByKind,
  HallucinationKind,
  KindMetrics,
  KindRates,
  KindSources,
} from './hallucination-kinds';
export { niceTicks, formatTick } from './nice-ticks';
export type { Ticks } from './nice-ticks';
export { lineChartSvg, CHART_MARGIN } from './svg-chart';
export type { ChartSeries, LineChartOptions } from './svg-chart';
export { reportMarkdown, fmt3 } from './report-md';
export type { ReportEval, RunReport, StageEval, StageSummary } from './report-md';
export { finalAnswer, scoreReasoning, reasoningRequests } from './reasoning';
export type { ReasoningResult, ReasoningSet } from './reasoning';
