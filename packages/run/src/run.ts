import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { ConfigError, MllmError, initBackend, matMulEngineInfo, saveSafetensors, setMatMulEngine, type ComponentRegistry, type Logger } from '@mllm/core';
import { writeFileAtomic } from '@mllm/core/internal';
import { evaluate } from '@mllm/eval';
import {
  ALIGNMENT_STAGES,
  LlavaSources,
  StageData,
  parseRunConfig,
  runStage,
  stageName,
  DataParallel,
  shardableStage,
  type RunConfig,
  type StageResult,
  type WorkerModelSpec,
} from '@mllm/training';
import { llavaSourcesOf, mixtureFileIssues, trainsToolUse } from '@mllm/training/internal';
import { modelAnswerer } from './answerer';
import { buildEvalSet } from './eval-set';
import { answererDescriber, sessionJudges } from './judges';
import { MetricsLog } from './metrics-log';
import { dataReport, writeReports, type RunReportJson } from './report';
import { disposeAll, loadCheckpoint, mergeSkipped, openRunDir, saveCheckpoint, type RunState } from './run-dir';
import { createSession, type Session } from './session';
import { REWARD_MODEL_FILE, alignmentContext, loadRewardModel } from './alignment-context';
import { expertTextReport } from './expert-eval';
import { evaluateHeldOut } from './held-out-eval';
import { resolvePretrainedSources } from './pretrained-sources';
import { registryFor } from './plugins';
import { evaluateTools, sessionDetector, toolsConfigIssues } from './tools/tool-eval';
import { DETECTOR_FILE } from './tools/detector';
import { evaluateMitigation, mitigationPointsAfter, type MitigationPoint, type MitigationResult } from './mitigation-eval';
import { failpoint } from './failpoint';
import { checkSizeLimits, sizeLimits } from './size-limits';
import { memoryEstimateReport } from './report-throughput';
import type { RunSizeEstimate } from './size-estimate';
import { environmentChanges, matMulThreads, readRunEnvironment, runEnvironment, writeRunEnvironment, type RunEnvironment } from './environment';

export interface RunOptions {
  out: string;
  force?: boolean;
  resume?: boolean;
  backend?: string;
  seed?: number;
  logger: Logger;
  /** Called as training goes: a stage starts, a step ends, a stage ends, an evaluation answers a batch (the CLI draws bars from these). */
  onProgress?: (event: RunProgress) => void;
  /** Folder that relative plugin paths in the config are taken against (default: the working directory). */
  baseDir?: string;
  /** Overrides every LLaVA source's `onBadSample` (`mllm run --on-bad-sample`). */
  onBadSample?: 'skip' | 'fail';
  /** Data-parallel participants (`mllm run --workers N`): this process plus N - 1 workers; default 1. */
  workers?: number;
  /** onnxruntime matMul threads of a single-process run (`--threads`; default env MLLM_THREADS, else every core); the result depends on it. */
  threads?: number;
}

/** The data-parallel worker script, one level up from both `src/` (tests) and `dist/` (the build): the built one. */
const DP_WORKER_ENTRY = new URL('../dist/dp-worker.js', import.meta.url);

/** What `run` reports as it trains, for progress bars and logs. */
export type RunProgress =
  | { type: 'stage-start'; stage: string; index: number; steps: number; startStep: number }
  | { type: 'step'; stage: string; index: number; step: number; steps: number; loss: number; seconds: number; tokens: number }
  | { type: 'stage-end'; stage: string; index: number }
  /** Evaluation after stage `after`: `done` of `total` prompts answered (one event per answered batch). */
  | { type: 'eval'; after: string; done: number; total: number };

/** Called as an evaluation answers its prompts, batch by batch. */
export type EvaluateProgress = (done: number, total: number) => void;

function matMulEngineLabel(): string {
  const engine = matMulEngineInfo();
  if (engine.engine === 'onnxruntime') return `onnxruntime (${engine.threads} thread(s) per process)`;
  return `tfjs-wasm${engine.note ? ` (${engine.note})` : ''}`;
}

/**
 * Starts data-parallel workers when asked for and useful (a native backend already uses every
 * core), and sets the matMul engine's threads: every core for one process, one per participant.
 */
async function startWorkers(options: RunOptions, backend: string, threads: number, model: WorkerModelSpec): Promise<DataParallel | undefined> {
  const workers = options.workers ?? 1;
  const parallel = workers > 1 && (backend === 'wasm' || backend === 'cpu');
  if (workers > 1 && !parallel) options.logger.info(`--workers ${workers} ignored: the ${backend} backend already runs on every core`);
  setMatMulEngine('auto', { threads: parallel ? 1 : threads });
  if (backend === 'wasm') options.logger.info(`matMul: ${matMulEngineLabel()}`);
  if (!parallel) return undefined;
  // this package's worker entry, which loads the config's plugins before building the model
  const dp = await DataParallel.start({ workers, model, backend, workerUrl: DP_WORKER_ENTRY });
  const others = dp.transport === 'threads' ? 'worker thread(s)' : 'child process(es)';
  options.logger.info(`data-parallel: ${workers} participants (this process and ${workers - 1} ${others}), each with its own ${backend} backend`);
  return dp;
}

/** The config a run of `raw` with this seed trains: plugins loaded, seed override, pretrained sources resolved (an llm "from": "hf:DIR" takes its shape and tokenizer from the folder), validated. */
async function resolveRunConfig(raw: unknown, seed: number | undefined, baseDir?: string) {
  const withPlugins = await registryFor(raw, baseDir);
  const { registry } = withPlugins;
  const seeded = seed !== undefined && typeof withPlugins.raw === 'object' && withPlugins.raw ? { ...withPlugins.raw, seed } : withPlugins.raw;
  const hf = await resolvePretrainedSources(seeded, registry);
  const config = parseRunConfig(hf.raw, registry);
  const toolIssues = toolsConfigIssues(config.tools, registry);
  if (toolIssues.length > 0) throw new ConfigError(toolIssues);
  return { hf, registry, config };
}

/**
 * Runs a config into the folder `options.out`: validates it whole, trains every stage with
 * checkpoints (`resume` continues the last one), evaluates, and writes the run folder
 * (`model.safetensors`, `config.json`, tokenizer, `metrics.jsonl`, `report.json`, `report.md`).
 */
export async function run(raw: unknown, options: RunOptions): Promise<RunReportJson> {
  const started = performance.now();
  const resolved = await resolveRunConfig(raw, options.seed, options.baseDir);
  const { hf, registry } = resolved;
  const config = withBadSamplePolicy(resolved.config, options.onBadSample); // every config error surfaces before any allocation
  const sizeEstimate = checkSizeLimits(config, registry, { vocabSize: hf.tokenizer?.vocabSize, backend: options.backend }); // every stage's batch, before the first one trains
  const missing = mixtureFileIssues(config.stages);
  if (missing.length > 0) throw new ConfigError(missing);
  // LLaVA files are read (and bad records found) before the run folder is touched; the tokenizer learns the words of the records it accepts
  const llava = new LlavaSources();
  const llavaText = await llava.corpus(config.stages, hf.tokenizer);
  const threads = matMulThreads(options.threads);
  // one run at a time per folder: the lock is held until the report is written or the run fails
  const lock = await openRunDir(options.out, options);
  try {
    return await trainInRunDir({ ...resolved, config, llava, llavaText, started, threads, sizeEstimate }, options);
  } finally {
    await lock.release();
  }
}

/** What `run` has read and validated before it takes the run folder. */
interface PreparedRun extends Awaited<ReturnType<typeof resolveRunConfig>> {
  llava: LlavaSources;
  llavaText: Awaited<ReturnType<LlavaSources['corpus']>>;
  /** performance.now() when the run started, for wallSeconds. */
  started: number;
  /** onnxruntime matMul threads (options.threads resolved). */
  threads: number;
  /** Each stage's memory as estimated when the config was admitted, for the report. */
  sizeEstimate: RunSizeEstimate;
}

/** `run` once it holds the run folder: trains from the start or the checkpoint, evaluates, writes the reports. */
async function trainInRunDir(prepared: PreparedRun, options: RunOptions): Promise<RunReportJson> {
  const { config, registry, hf, llava, llavaText, started, threads, sizeEstimate } = prepared;
  const backend = await initBackend({ backend: options.backend, logger: options.logger });
  const session = createSession(config, registry, hf.tokenizer, llavaText);
  const { model, tokenizer } = session;
  if (session.vocabCapped && config.tokenizer.type === 'word') options.logger.warn(`tokenizer: the data has ${session.vocabCapped.words} distinct words, over tokenizer.maxVocab ${config.tokenizer.maxVocab}: the ${session.vocabCapped.words - session.vocabCapped.kept} least frequent read as <unk>; raise tokenizer.maxVocab to keep them`);
  await hf.loadInto(model);
  options.logger.info(
    `model: ${model.numParameters()} parameters (encoder ${model.encoder.numParameters()}, connector ${model.connector.numParameters()}, llm ${model.llm.numParameters()}); ${visualTokensPerImage(model) > 0 ? `${model.tokensPerImage} visual tokens per image` : `images read by fusion layers only (${model.encoder.numTokens} features each)`}; vocab ${tokenizer.vocabSize}`,
  );
  const configJson = JSON.stringify(config, null, 2);
  if (options.resume) await assertSameConfig(join(options.out, 'config.json'), configJson, registry);
  await writeFileAtomic(join(options.out, 'config.json'), configJson);
  await tokenizer.save(options.out);

  const metrics = new MetricsLog(join(options.out, 'metrics.jsonl'));
  let state: RunState = { stageIndex: 0, step: 0, completed: [] };
  let resume: Awaited<ReturnType<typeof loadCheckpoint>> | undefined;
  if (options.resume) {
    resume = await loadCheckpoint(options.out);
    state = resume.state;
    model.loadStateDict(resume.model, { source: join(options.out, 'checkpoint', 'model.safetensors') });
    await metrics.truncateTo(state.stageIndex, state.step);
    options.logger.info(`resuming at stage ${state.stageIndex} step ${state.step}`);
  }

  const data = new StageData(session.world, tokenizer, config.seed, llava, config.data.instructions);
  data.captionConfig = config.data.captions;
  const context = alignmentContext(session);
  if (resume && state.completed.some((s) => s.type === 'reward')) context.rewardModel = await loadRewardModel(session, context, options.out);
  // idle workers do not hold the process open, so a failure anywhere below needs no cleanup of them
  const parallel = await startWorkers(options, backend.name, threads, { config: config as unknown as Record<string, unknown>, vocabSize: tokenizer.vocabSize, special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: config.seed });
  const environment = runEnvironment(`${backend.name} (${backend.provider})`, parallel ? options.workers! : 1);
  const resumedAcross = options.resume ? await environmentChangesSinceStart(options, environment) : [];
  if (!options.resume) await writeRunEnvironment(options.out, environment);
  for (let i = state.stageIndex; i < config.stages.length; i++) {
    const stage = config.stages[i]!;
    const name = stageName(stage, i);
    const resumeHere = resume && i === state.stageIndex && state.step > 0 ? { step: state.step, optimizer: resume.optimizer, extra: resume.extra, progress: state.stage } : undefined;
    options.onProgress?.({ type: 'stage-start', stage: name, index: i, steps: stage.steps, startStep: resumeHere?.step ?? 0 });
    if (parallel && !shardableStage(stage)) options.logger.info(`stage ${name} (${stage.type}) trains in one process: --workers shares the steps of pretrain-llm, align and instruct stages only`);
    const result: StageResult = await runStage(stage, i, model, data, {
      parallel,
      onStep: async (e) => {
        await metrics.append({ stage: name, stageIndex: i, step: e.step, loss: e.loss, valLoss: e.valLoss, lr: e.lr, gradNorm: e.gradNorm, tokens: e.tokens, seconds: e.seconds, ...(e.stats && { stats: e.stats }), ...(e.valStats && { valStats: e.valStats }) });
        failpoint('after-metrics', i, e.step);
        options.onProgress?.({ type: 'step', stage: name, index: i, step: e.step + 1, steps: stage.steps, loss: e.loss, seconds: e.seconds, tokens: e.tokens });
      },
      onCheckpoint: async ({ step, optimizer, extra, progress }) => {
        // everything the report takes from earlier stages (results, evaluations, skipped records) travels with every checkpoint
        const midStage: RunState = { ...state, stageIndex: i, step, stage: progress, ...skippedSoFar(state, llava, config) };
        await saveCheckpoint(options.out, { model, optimizer: optimizer.stateDict(), extra, state: midStage });
        failpoint('after-checkpoint', i, step);
      },
    }, resumeHere, context).finally(() => options.onProgress?.({ type: 'stage-end', stage: name, index: i }));
    if (stage.type === 'reward') await saveSafetensors(join(options.out, REWARD_MODEL_FILE), context.rewardModel!.stateDict(), { format: 'pt' });
    const evals = [...(state.evals ?? [])];
    if (evaluatedAfter(config, i)) {
      const evalStarted = performance.now();
      const mitigation = mitigationPointsAfter(config, i);
      evals.push({ after: name, eval: { ...(await evaluateSession(session, evalProgress(options, name), { afterStages: i + 1, logger: options.logger, mitigation })), seconds: (performance.now() - evalStarted) / 1000 } });
    }
    state = { stageIndex: i + 1, step: 0, completed: [...state.completed, result], ...(evals.length > 0 && { evals }), ...skippedSoFar(state, llava, config) };
    await saveCheckpoint(options.out, { model, state });
    failpoint('after-stage', i);
    const heldOut = result.heldOut ? `, held-out ${Object.entries(result.heldOut).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}` : '';
    options.logger.info(`stage ${name}: ${result.steps} steps, loss ${result.finalLoss.toFixed(4)}, val ${result.valLoss.toFixed(4)}${heldOut}, ${result.seconds.toFixed(1)} s`);
  }
  await parallel?.close();
  context.rewardModel?.dispose();
  if (resume) {
    disposeAll(resume.model);
    disposeAll(resume.optimizer);
    disposeAll(resume.extra);
  }
  await saveSafetensors(join(options.out, 'model.safetensors'), model.stateDict(), { format: 'pt' });

  const evalStarted = performance.now();
  const lastEval = state.evals?.at(-1);
  const finalEval = lastEval && lastEval.after === stageName(config.stages.at(-1)!, config.stages.length - 1) ? lastEval.eval : undefined;
  const lastStage = config.stages.length - 1;
  const evalReport = finalEval ?? { ...(await evaluateSession(session, evalProgress(options, stageName(config.stages.at(-1)!, lastStage)), { logger: options.logger, mitigation: mitigationPointsAfter(config, lastStage) })), seconds: 0 };
  // the detector the tools and post-correction read, so `mllm chat --tools / --correct` see what the evaluation saw
  if (config.tools || usesPostCorrection(config)) await sessionDetector(session, options.logger).save(join(options.out, DETECTOR_FILE));
  const mitigation = mitigationReport(config, [...(state.evals ?? []).map((e) => e.eval), evalReport]);
  const report: RunReportJson = {
    backend: `${backend.name} (${backend.provider})${backend.name === 'wasm' ? `, matMul on ${matMulEngineLabel()}` : ''}`,
    seed: config.seed,
    environment: { ...environment, ...(resumedAcross.length > 0 && { resumedAcross }) },
    config: config.description ?? '',
    wallSeconds: (performance.now() - started) / 1000,
    parameters: {
      total: model.numParameters(),
      encoder: model.encoder.numParameters(),
      connector: model.connector.numParameters(),
      llm: model.llm.numParameters(),
    },
    connector: { type: config.connector.type, kind: model.connector.kind, tokensPerImage: visualTokensPerImage(model), encoderTokens: model.encoder.numTokens },
    stages: state.completed.map((s) => ({ ...s, tokensPerSecond: s.seconds > 0 ? s.tokens / s.seconds : 0 })),
    memoryEstimate: memoryEstimateReport(sizeEstimate, sizeLimits(config, options.backend)),
    eval: { ...evalReport, ...(mitigation && { mitigation }), seconds: finalEval ? finalEval.seconds : (performance.now() - evalStarted) / 1000 },
    ...dataReport(llavaSourcesOf(config.stages).length > 0 ? mergeSkipped(state.skipped, llava.skipped()) : undefined, data.instructions?.selfInstructStats()),
    ...(state.evals && { evals: finalEval ? state.evals : [...state.evals, { after: stageName(config.stages.at(-1)!, config.stages.length - 1), eval: { ...evalReport, seconds: (performance.now() - evalStarted) / 1000 } }] }),
  };
  for (const [file, skipped] of Object.entries(report.data?.skipped ?? {}))
    if (skipped.count > 0) options.logger.warn(`${file}: skipped ${skipped.count} bad sample(s) (report.json data.skipped), e.g. ${skipped.reasons[0]}`);
  await writeReports(options.out, report, await metrics.read());
  return report;
}

/** What changed since the run started (logged: a resumed run then differs from an uninterrupted one in its low bits). */
async function environmentChangesSinceStart(options: RunOptions, now: RunEnvironment): Promise<string[]> {
  const before = await readRunEnvironment(options.out);
  const changes = before ? environmentChanges(before, now) : [];
  if (changes.length > 0) {
    const hint = before!.matMul.threads !== now.matMul.threads ? `; pass --threads ${before!.matMul.threads} to match` : '';
    options.logger.warn(`--resume in another environment than the run started in (${changes.join(', ')}): the result will not repeat an uninterrupted run bit for bit${hint}`);
  }
  return changes;
}

/** The skipped LLaVA records to store in a checkpoint: those of the checkpoint resumed from and those of this process. */
function skippedSoFar(state: RunState, llava: LlavaSources, config: RunConfig): Pick<RunState, 'skipped'> {
  return llavaSourcesOf(config.stages).length > 0 ? { skipped: mergeSkipped(state.skipped, llava.skipped()) } : {};
}

/** The config with every LLaVA source's bad-sample policy set to `policy` (the CLI flag wins over the file). */
function withBadSamplePolicy(config: RunConfig, policy: 'skip' | 'fail' | undefined): RunConfig {
  if (!policy) return config;
  const stages = config.stages.map((stage) =>
    'data' in stage && stage.data ? { ...stage, data: stage.data.map((s) => (s.source === 'llava' ? { ...s, onBadSample: policy } : s)) } : stage,
  ) as RunConfig['stages'];
  return { ...config, stages };
}

/**
 * Tokens an image adds to the LLM's sequence: a token-level connector's M, a fusion connector's
 * own tokens (visual expert), or 0 when the image only reaches fusion layers (Flamingo,
 * LLaMA-Adapter), where `<image>` stays one text token.
 */
export function visualTokensPerImage(model: Session['model']): number {
  const c = model.connector;
  return c.kind === 'token-connector' || c.outputTokens ? model.tokensPerImage : 0;
}

/**
 * Where the run report compares the policy before and after alignment: after the instruct
 * stage an alignment stage follows, and after every stage that changes the policy (dpo, ppo);
 * with tools, also after the instruct stage before the first that trains on tool traces (the
 * training-free controller).
 */
export function evaluatedAfter(config: RunConfig, index: number): boolean {
  const type = config.stages[index]!.type;
  const next = config.stages[index + 1]?.type;
  const toolsNext = type === 'instruct' && config.tools !== undefined && !trainsToolUse(config.stages, index + 1) && trainsToolUse(config.stages, index + 2);
  const mitigationHere = mitigationPointsAfter(config, index).length > 0;
  return type === 'dpo' || type === 'ppo' || (type === 'instruct' && next !== undefined && ALIGNMENT_STAGES.includes(next)) || toolsNext || mitigationHere;
}

/**
 * The report of a finished run of this config and seed in `dir` (what `mllm sweep --resume`
 * reuses instead of training again), or undefined when `dir` holds no finished run. A finished
 * run of another config is an error, not a reason to overwrite it.
 */
export async function finishedRunReport(raw: unknown, dir: string, seed: number, baseDir?: string): Promise<RunReportJson | undefined> {
  const reportPath = join(dir, 'report.json');
  if (!existsSync(reportPath)) return undefined;
  const { config, registry } = await resolveRunConfig(raw, seed, baseDir);
  const configJson = JSON.stringify(config, null, 2);
  try {
    await assertSameConfig(join(dir, 'config.json'), configJson, registry);
  } catch {
    throw new MllmError(`${dir} holds a finished run of a different config or seed; move it away, or pass --force to train it again`);
  }
  return JSON.parse(await readFile(reportPath, 'utf8')) as RunReportJson;
}

/**
 * A resumed run must continue the run it started: same config, or the result would be neither.
 * The stored config is parsed again first, so fields this version added with their defaults
 * (written out in new runs only) do not make an older run's config look different; the
 * `description` is prose, not training, and may have been reworded since.
 */
export async function assertSameConfig(path: string, configJson: string, registry: ComponentRegistry): Promise<void> {
  const stored = await readFile(path, 'utf8').catch(() => undefined);
  if (stored === undefined) return;
  let reparsed: string | undefined;
  try {
    reparsed = trainingIdentity(parseRunConfig(JSON.parse(stored), registry));
  } catch {
    reparsed = undefined; // unreadable or no longer valid: it cannot be the same config
  }
  if (reparsed !== trainingIdentity(JSON.parse(configJson) as RunConfig))
    throw new MllmError(`--resume: the config differs from the one this run started with (${path}); resume with that config or start a new run`);
}

/** What decides a run's result: the config without its description. */
function trainingIdentity(config: RunConfig): string {
  const { description: _description, ...rest } = config;
  return JSON.stringify(rest);
}

/**
 * The run's evaluation of `session`'s model on its test scenes; `onProgress` hears of every
 * answered batch. With tools, it adds the tool evaluation (`afterStages`: the stages trained
 * so far, which decide whether the controller was finetuned on tool traces).
 */
export async function evaluateSession(session: Session, onProgress?: EvaluateProgress, options: { afterStages?: number; logger?: Logger; mitigation?: readonly MitigationPoint[] } = {}) {
  const { model, tokenizer, world, config } = session;
  model.eval();
  const set = buildEvalSet(world, config);
  const answerer = modelAnswerer(model, tokenizer, world, config.eval.maxNewTokens, config.eval.decoding, config.eval.sampling);
  const judge = sessionJudges(session, options.logger, answererDescriber(answerer, config.eval.batchSize)); // eval.judges: absent by default
  const report = await evaluate(answerer, set, { batchSize: config.eval.batchSize, onProgress, ...(judge && { judge }) });
  const expert = expertTextReport(session, set.scenes.map((s) => world.scene(s.id)));
  const heldOut = await evaluateHeldOut(answerer, world, config); // data.instructions: absent by default
  const mitigation = options.mitigation?.length ? await evaluateMitigation(session, options.mitigation, options) : undefined;
  const withExpert = { ...report, ...(expert && { expert }), ...(heldOut && { heldOut }), ...(mitigation && { mitigation }) };
  if (!config.tools) return withExpert;
  return { ...withExpert, tools: await evaluateTools(session, { ...options, batchSize: config.eval.batchSize }) };
}

/** Whether a mitigation method corrects answers with Woodpecker (and so needs the run's detector). */
function usesPostCorrection(config: RunConfig): boolean {
  return Object.values(config.eval.mitigation?.methods ?? {}).some((m) => m.correct === 'woodpecker');
}

/**
 * `eval.mitigation`: every method's result, in the config's order, gathered from the evaluations
 * that ran them (the instruct methods after the instruct stage, the final ones at the end).
 */
function mitigationReport(config: RunConfig, evals: readonly { mitigation?: Record<string, MitigationResult> }[]): Record<string, MitigationResult> | undefined {
  const methods = config.eval.mitigation?.methods;
  if (!methods) return undefined;
  const found: Record<string, MitigationResult> = Object.assign({}, ...evals.map((e) => e.mitigation ?? {}));
  return Object.fromEntries(Object.keys(methods).flatMap((name) => (found[name] ? [[name, found[name]]] : [])));
}

/** `run`'s eval progress events for the evaluation after stage `after`. */
function evalProgress(options: RunOptions, after: string): EvaluateProgress | undefined {
  const onProgress = options.onProgress;
  return onProgress && ((done, total) => onProgress({ type: 'eval', after, done, total }));
}

export type { RunConfig };
