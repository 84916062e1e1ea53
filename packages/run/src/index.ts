// Running: a config into a run folder, many configs and seeds side by side.
export { run, evaluateSession, type RunOptions, type RunProgress } from './run';
export { sweep, sweepMarkdown, summarizeRuns, spread, type SweepOptions, type SweepRow, type Spread } from './sweep';

// Config files: `extends` chains and `--set` overrides resolved, and the JSON Schema editors check them with.
export { loadConfig, readConfig, type LoadConfigOptions } from './config-load';
export { runConfigJsonSchema, type JsonSchema } from './config-schema';

// Reopening a finished run: a ready object that answers and evaluates.
export { openRun, type OpenedRun, type ImageSource, type AnswerOptions } from './open-run';
export { createSession, createWorld, type Session } from './session';

// Evaluation sets and reports of the Shapes world.
export { buildEvalSet } from './eval-set';
export { modelAnswerer } from './answerer';
export type { RunReportJson } from './report';
export type { MetricRecord } from './metrics-log';

// Registry and plugins: every component type a config can name, built-in or a plugin's.
export { createRegistry, type MllmRegistry } from './registry';
export { loadPlugins, resolvePlugins, registryFor, type MllmPlugin } from './plugins';

// Deployment and HuggingFace checkpoints.
export { exportCheckpoint, evaluateOnnx, chatOnnx, onnxAnswerer, type ExportCommandOptions, type ChatDecoding } from './export';
export { forwardHf } from './forward';

// Checking a LLaVA-format dataset before training on it.
export { lintData, formatLintReport, type LintReport } from './lint-data';
