// Run configs: the stages of a run, validated whole with every error's JSON path.
export { parseRunConfig, stageSchema, STAGE_TYPES, ALIGNMENT_STAGES, TRAINABLE_MODULES, type RunConfig, type StageConfig, type StageType, type TrainableModule } from './run-config';
export { CHAIN_OF_THOUGHT_STYLES, type ChainOfThought } from './chain-of-thought-option';

// Running a stage: its data, the shared step loop, what it returns and how it resumes.
export { runStage, stageName, shardableStage, type StageResult, type StageResumeState, type StageProgress, type StageCallbacks } from './run-stage';
export { StageData } from './stage-data';
export type { CaptionPoolReport } from './caption-pool';
export { LlavaSources, type LlavaPrepareOptions, type SkippedReport } from './llava-source';
export type { AlignmentContext } from './stage-objective';

// Training at size: a frozen encoder's features cached outside the gradient scope, LoRA, per-stage throughput and memory.
export { FrozenFeatures } from './frozen-features';
export { loraSchema, type LoraConfig } from './lora';
export { type StageThroughput } from './stage-throughput';

// Optimisation: AdamW, warm-up + cosine schedule, global-norm clipping, the step loop on its own.
export { AdamW, type AdamWOptions } from './adamw';
export { warmupCosine } from './schedule';
export { clipGradNorm, globalGradNorm } from './clip-grads';
export { trainLoop, type OptimConfig, type StepEvent, type StepLoss, type TrainLoopOptions } from './train-loop';

// Data parallelism: worker threads or processes sharing each step, batches cut where the padded work is even.
export { DataParallel, defaultWorkers, type DataParallelOptions, type DataParallelTransport, type WorkerModelSpec } from './data-parallel';
export { shardBatch, type BatchShard } from './batch-shards';

// Alignment losses with TRL's semantics: DPO, Bradley-Terry, PPO's clipped objectives, GAE, per-token KL.
export { sequenceLogProbs, tokenLogProbs, dpoLoss, bradleyTerryLoss, type PreferenceLogProbs, type DpoOptions, type DpoOutput, type BradleyTerryOptions } from './dpo-losses';
export { gae, gaeBatch, perTokenKl, perTokenRewards, ppoClippedLoss, clippedValueLoss } from './ppo-losses';
export type { GaeOptions, KlEstimator, PolicyLossInputs, RewardInputs, ValueLossInputs } from './ppo-losses';

// Reward modelling: the reward model and PPO's value head; comparison pairs from the policy's own samples.
export { RewardModel, ValueHead, type RewardPooling } from './reward-model';
export { sampledPreferencePairs, judgeAnswer, ERROR_WEIGHT, type AnswerJudgement, type SampledPairOptions } from './sampled-pairs';
