// Running: a config into a run folder, many configs and seeds side by side.
export { run, evaluateSession, type RunOptions, type RunProgress, type EvaluateProgress } from './run';
export { sweep, sweepMarkdown, summarizeRuns, spread, type SweepOptions, type SweepRow, type Spread } from './sweep';

// Config files: `extends` chains and `--set` overrides resolved, and the JSON Schema editors check them with.
export { loadConfig, type LoadConfigOptions } from './config-load';
export { runConfigJsonSchema, type JsonSchema } from './config-schema';

// Reopening a finished run: a ready object that answers and evaluates.
export { openRun, type OpenedRun, type ImageSource, type AnswerOptions } from './open-run';

// What a config implies in sizes, and the limits run, sweep and openRun hold it to before allocating.
export { estimateRunSize, type RunSizeEstimate } from './size-estimate';
export { checkSizeLimits, sizeLimits, type SizeLimits } from './size-limits';
export { loadImageInput, type ImageInputOptions } from './image-input';
export { conversationTurns, type Conversation } from './answerer';
export { createSession, createWorld, type Session } from './session';

// Shapes-world scenes to ask a model about, with their ground truth.
export { renderShapesScene, writeShapesScene, sceneOptionsOfRun, type SceneOptions, type SceneGroundTruth, type RenderedScene } from './shapes-scene';

// Evaluation sets and reports of the Shapes world.
export { buildEvalSet } from './eval-set';
// Judges of detailed descriptions (eval.judges): the HaELM-style judge LM, rubric scoring by it or an OpenAI-compatible endpoint.
export { runJudges, answererDescriber, type Describer } from './judges';
export { ChatEndpointJudge, type ChatEndpointOptions } from './judge-endpoint';
export { modelAnswerer } from './answerer';
export { fewShotPromptIds, checkDemonstrations, type FewShotDemonstration } from './few-shot';
export { buildIclSet } from './icl-set';
export type { RunReportJson } from './report';
export type { MetricRecord } from './metrics-log';

// Post-correction (Woodpecker) of a run's answers, with its region detector as the visual expert.
export { openPostCorrector, correctingAnswerer, revisingAnswerer, detectorExpert, type PostCorrector, type CorrectionLog, type CorrectionSample } from './post-correction';

// Vision tools (LLM-aided reasoning): the registry slot's contract, the call syntax, the controller loop and tool chat.
export { ToolArgumentError, type VisionTool, type ToolImage } from './tools/vision-tool';
export { registerBuiltinTools, type ToolRegistry, type ToolContext } from './tools/builtin-tools';
export { type ToolOutcome, type TraceEvent, type TraceRole } from './tools/tool-session';
export { openToolChat, type ToolChat } from './tools/tool-chat';

// Registry and plugins: every component type a config can name, built-in or a plugin's.
export { createRegistry, type MllmRegistry } from './registry';
export { loadPlugins, resolvePlugins, registryFor, type MllmPlugin } from './plugins';

// Deployment and HuggingFace checkpoints.
export { exportCheckpoint, evaluateOnnx, onnxAnswerer, type ExportCommandOptions } from './export';
// exportCheckpoint({ format: 'hf' }) writes the LLaVA folder transformers loads; this is its refusal
export { HfExportError } from './export-hf-parts';
export { openOnnxChat, type OnnxChat, type ChatDecoding } from './onnx-chat';
export { forwardHf } from './forward';

// Checking a LLaVA-format dataset before training on it.
export { lintData, formatLintReport, type LintReport } from './lint-data';

// Stand-ins for released checkpoints: their files and shapes, seeded random weights.
export { writeHfStandin, STANDIN_MODELS, type WriteStandinOptions } from './hf-standin/index';
