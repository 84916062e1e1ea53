/**
 * @mllm/eval: closed-set accuracy, POPE and CHAIR against exact ground truth, an evaluation
 * runner over any batched answerer, and report output (SVG line charts, Markdown summaries).
 */

// Reading an answer as the published scorers do.
export { normalizeAnswer, yesNo, type YesNo } from './answer';

// Scorers: POPE, CHAIR (with the mentions it counts), closed-set accuracy, chain-of-thought answers.
export { popeMetrics, popeReading, type PopeItem, type PopeMetrics } from './pope';
export { chair, checkCaption, type CaptionCheck, type ChairItem, type ChairResult } from './chair';
export { SPATIAL_RELATIONS, cellRelationHolds } from './spatial-relation';
export { faithScore, atomicFacts, verifyFact, factText, FACT_KINDS, type AtomicFact, type FactKind, type FaithScoreResult } from './faith-score';
export { attributeChair, attributeClaims, ATTRIBUTE_KINDS, type AttributeChairResult, type AttributeKind } from './attribute-chair';
export { chairMentions, SHAPES_VOCABULARY, type GroundTruthScene, type MentionVocabulary } from './mentions';
export { closedSetAccuracy, isCorrect, type ClosedSetItem, type ClosedSetResult, type TypeAccuracy } from './closed-set';
export { scoreTools, toolsAccuracy, type ToolsItem, type ToolsOutcomeSummary, type ToolsAccuracy, type ToolsResult } from './tools';
export { iclAnswer, iclRequests, scoreIcl, type AnswerRequest, type Demonstration, type IclEpisode, type IclResult, type IclSet } from './icl';
export { iclMarkdown, iclCurveSvg, ICL_CURVE_FILE } from './icl-report';
export { heldOutAccuracy, type HeldOutItem, type HeldOutResult } from './held-out';
export { finalAnswer, scoreReasoning, reasoningRequests, type ReasoningResult, type ReasoningSet } from './reasoning';

// Judges: agreement with the exact checker (accuracy, Cohen's kappa, Spearman), rubric prompts and score parsing.
export { accuracy, cohenKappa, spearman } from './agreement';
export { binaryAgreement, type BinaryAgreement, type JudgeHook, type JudgeReport } from './judge-report';
export { rubricPrompt, parseRubricScore, rubricAgreement, RUBRIC_SYSTEM_PROMPT, type RubricAgreement } from './rubric-judge';

// Hallucination by kind (existence, attribute, relationship) from the probes that target each.
export { hallucinationByKind, kindRates } from './hallucination-kinds';
export { attributeRates, type AttributeJudge, type AttributeRates, type ExpertTextReport } from './attribute-rates';
export type { DescriptionJudge, DescriptionJudgement, HallucinationByKind, KindMetrics, KindRates, KindSources } from './hallucination-kinds';

// The evaluation runner: one answerer over an evaluation set, every score in one report.
export { evaluate, POPE_SAMPLINGS, type Answerer, type DetailReport, type EvalReport, type EvalSet, type EvaluateOptions, type PopeSampling } from './evaluate';

// Reports: report.md and SVG line charts.
export { reportMarkdown, fmt3, type ReportEnvironment, type ReportEval, type RunReport, type StageEval, type StageSummary } from './report-md';
export { lineChartSvg, type ChartSeries, type LineChartOptions } from './svg-chart';
