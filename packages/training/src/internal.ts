/**
 * `@mllm/training/internal`: what @mllm/run needs of this package to run configs. Not a stable
 * API: names here change or go without a major version; a consumer imports from `@mllm/training`.
 */

// The data-parallel worker's side, which @mllm/run's worker script serves with its registry.
export { serveDataParallel, type WorkerHooks } from './dp-worker-serve';

// Parts of the run config schema, for the JSON Schema editors read.
export { dataSchema, evalSchema, evalSamplingSchema, limitsSchema, tokenizerSchema, type EvalSampling } from './run-config';
// Hallucination mitigation compared method by method (`eval.mitigation`).
export { mitigationEvalSchema, mitigationMethodSchema, instructPolicyStage, POST_CORRECTORS, type MitigationEvalConfig, type MitigationMethod, type PostCorrectionMethod } from './mitigation-eval-schema';
export { judgesSchema, judgeModelSchema, rubricEndpointSchema, type JudgesConfig, type JudgeModelConfig, type RubricEndpointConfig } from './judge-schema';

// What a run prepares before its first stage: files to check, LLaVA sources to read, reasoning text to add.
export { mixtureFileIssues, trainsGeneralText } from './data-mixture';
export { llavaSourcesOf } from './llava-source';
export { trainsChainOfThought, trainedChainStyle, trainsRevision } from './stage-data';
// Instruct questions in many phrasings with held-in / held-out splits, and self-instruction (`data.instructions`).
export { instructionsSchema, INSTRUCTION_SOURCES, type InstructionsConfig } from './instructions-option';

// Vision tools: the run config's `tools` section, and the detector head the tools see the image through.
export { toolsSchema, trainsToolUse, type ToolsConfig } from './tools-config';
export { RegionHead, type CellPrediction } from './region-head';
export { trainsInterleaved, interleavedTurns } from './interleaved-batch';

// Training at size: what @mllm/run's memory estimate and report, and the at-size tools, read.
export { DEFAULT_TRAINS, defaultTrains } from './run-config';
export { DEFAULT_FEATURE_CACHE_BYTES } from './frozen-features';
export { LoraAdapter, LoraAdapters, LLAMA_LINEARS } from './lora';
export { StageMeter, wasmHeapBytes } from './stage-throughput';
