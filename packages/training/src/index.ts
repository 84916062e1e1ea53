export { AdamW, type AdamWOptions } from './adamw';
export { warmupCosine } from './schedule';
export { clipGradNorm, clipScale, globalGradNorm } from './clip-grads';
export { trainLoop, type OptimConfig, type StepEvent, type TrainLoopOptions } from './train-loop';
export { DataParallel, defaultWorkers, type DataParallelOptions, type DataParallelTransport, type WorkerModelSpec } from './data-parallel';
export { shardBatch, type BatchShard } from './batch-shards';
export { serveDataParallel, type WorkerHooks } from './dp-worker-serve';
export { ClipHead, type ClipHeadConfig } from './clip-head';
export { RegionHead } from './region-head';
export {
  parseRunConfig,
  stageSchema,
  dataSchema,
  evalSchema,
  tokenizerSchema,
  STAGE_TYPES,
  ALIGNMENT_STAGES,
  TRAINABLE_MODULES,
  ENCODER_OBJECTIVES,
  type EncoderObjective,
  DEFAULT_TRAINS,
  defaultTrains,
  type RunConfig,
  type StageConfig,
  type StageType,
  type TrainableModule,
} from './run-config';
export {
  StageData,
  type ImageTextPair,
  pickInstructKind,
  pickStageKind,
  trainsChainOfThought,
  validationEntries,
  INSTRUCT_MIXTURE,
  QA_TURNS,
  type InstructKind,
  type MixtureEntry,
} from './stage-data';
export {
  StageMixture,
  mixtureSchema,
  mixtureSourceSchema,
  llavaSourceSchema,
  mixtureFileIssues,
  sourceLabel,
  MIXTURE_SOURCES,
  LLAVA_RESIZE_MODES,
  type MixtureSource,
  type MixtureSourceType,
  type LlavaSourceConfig,
} from './data-mixture';
export { LlavaSources, llavaSourcesOf, type LlavaPrepareOptions, type SkippedReport } from './llava-source';
export { runStage, stageName, shardableStage, type StageResult, type StageResumeState, type StageCallbacks } from './run-stage';
export { MoeStageTracker, type MoeStageStats } from './moe-stage-stats';
export { sequenceLogProbs, tokenLogProbs, dpoLoss, bradleyTerryLoss, type PreferenceLogProbs, type DpoOptions, type DpoOutput, type BradleyTerryOptions } from './dpo-losses';
export { gae, gaeBatch, perTokenKl, perTokenRewards, ppoClippedLoss, clippedValueLoss, type GaeOptions, type KlEstimator, type PolicyLossInputs, type RewardInputs, type ValueLossInputs } from './ppo-losses';
export { RewardModel, ValueHead, type RewardPooling } from './reward-model';
export { copyModel, type AlignmentContext, type StageObjective } from './stage-objective';
export { dpoObjective } from './dpo-stage';
export { rewardObjective } from './reward-stage';
export { ppoObjective, whiten } from './ppo-stage';
export { preferenceBatch, pairBatch, batchLogProbs, type PreferenceMix } from './preference-batch';
export type { StepLoss } from './train-loop';
export { sampledPreferencePairs, judgeAnswer, judgementScore, ERROR_WEIGHT, type AnswerJudgement, type SampledPairOptions } from './sampled-pairs';
export { askedSample, sampleAnswers, type SamplingOptions } from './policy-sampling';
