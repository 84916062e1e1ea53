import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MllmError, type Logger } from '@mllm/core';
import { POPE_SAMPLINGS, fmt3, lineChartSvg, type PopeSampling } from '@mllm/eval';
import { parseRunConfig } from '@mllm/training';
import { checkSizeLimits } from './size-limits';
import { loadConfig } from './config-load';
import { registryFor } from './plugins';
import { finishedRunReport, run, type RunProgress } from './run';
import type { RunReportJson } from './report';
import type { MetricRecord } from './metrics-log';
import { runInChild, runPool, type ChildRun } from './sweep-jobs';
import { hasCheckpoint } from './checkpoint-swap';
import { acquireRunLock } from './run-lock';
import { spread, type Spread } from './sweep-spread';
import { sectionMetrics, sectionsMarkdown } from './sweep-sections';
import { mitigationMarkdown, mitigationRows, type MitigationRow } from './mitigation-md';

export { spread, type Spread };

export interface SweepOptions {
  out: string;
  /** Seeds 0..seeds-1, the same set for every config. */
  seeds: number;
  force?: boolean;
  /** Reuse runs that finished (same config and seed) and continue interrupted ones from their checkpoint. */
  resume?: boolean;
  backend?: string;
  /** onnxruntime matMul threads of every run (see RunOptions.threads). */
  threads?: number;
  logger: Logger;
  /** Progress of the runs trained in this process (with `jobs` above 1 it goes to each run's log). */
  onProgress?: (event: RunProgress & { run: string }) => void;
  /** `--set path=value` overrides applied to every config (after its `extends`). */
  set?: readonly string[];
  /**
   * Runs trained at once (default 1, in this process). Above 1 each run is its own `mllm run`
   * process writing its output to `<run folder>.log`; the table is the same as with 1.
   */
  jobs?: number;
}


export interface SweepRow {
  name: string;
  config: string;
  connector: string;
  connectorKind: RunReportJson['connector']['kind'];
  totalParameters: number;
  /** Parameters the last stage trained (instruction tuning in the shipped configs). */
  trainableParameters: number;
  /** Tokens an image adds to the LLM's sequence (0 when only fusion layers read it). */
  visualTokens: number;
  encoderTokens: number;
  trainSeconds: Spread;
  popeAccuracy: Record<PopeSampling, Spread>;
  popeF1: Record<PopeSampling, Spread>;
  chairI: Spread;
  chairS: Spread;
  closedSet: Spread;
  /** Metrics of the report sections in SWEEP_SECTIONS (in-context learning, reasoning, tools, ...) that every run has. */
  sections: Record<string, Spread>;
  /** `eval.mitigation`'s methods that every run has (empty without it). */
  mitigation: MitigationRow[];
  runs: string[];
}

/** One table row from the reports of one config's runs (one per seed). */
export function summarizeRuns(name: string, configPath: string, runs: { dir: string; report: RunReportJson }[]): SweepRow {
  const first = runs[0]!.report;
  const evals = runs.map((r) => {
    if (!r.report.eval) throw new MllmError(`sweep: ${r.dir}/report.json has no evaluation`);
    return r.report.eval;
  });
  const per = (pick: (e: (typeof evals)[number]) => number) => spread(evals.map(pick));
  const bySampling = (pick: (s: PopeSampling, e: (typeof evals)[number]) => number) =>
    Object.fromEntries(POPE_SAMPLINGS.map((s) => [s, per((e) => pick(s, e))])) as Record<PopeSampling, Spread>;
  return {
    name,
    config: configPath,
    connector: first.connector.type,
    connectorKind: first.connector.kind,
    totalParameters: first.parameters.total,
    trainableParameters: first.stages.at(-1)?.trainableParameters ?? 0,
    visualTokens: first.connector.tokensPerImage,
    encoderTokens: first.connector.encoderTokens,
    trainSeconds: spread(runs.map((r) => r.report.stages.reduce((t, s) => t + s.seconds, 0))),
    popeAccuracy: bySampling((s, e) => e.pope[s].accuracy),
    popeF1: bySampling((s, e) => e.pope[s].f1),
    chairI: per((e) => e.chair.chairI),
    chairS: per((e) => e.chair.chairS),
    closedSet: per((e) => e.closedSet.accuracy),
    sections: sectionMetrics(evals as unknown as Record<string, unknown>[]),
    mitigation: mitigationRows(evals.map((e) => e.mitigation)),
    runs: runs.map((r) => r.dir),
  };
}

function show(x: Spread, seeds: number): string {
  return seeds > 1 ? `${fmt3(x.mean)} ± ${fmt3(x.std)}` : fmt3(x.mean);
}

export function sweepMarkdown(rows: SweepRow[], seeds: number): string {
  const header = [
    'config',
    'connector',
    'parameters (trainable in last stage)',
    'visual tokens / image',
    'train s',
    ...POPE_SAMPLINGS.map((s) => `POPE ${s} acc / F1`),
    'CHAIR_i',
    'CHAIR_s',
    'closed-set',
  ];
  const lines = rows.map((r) =>
    [
      r.name,
      r.connector,
      `${r.totalParameters} (${r.trainableParameters})`,
      r.visualTokens > 0 ? String(r.visualTokens) : `0 (fusion layers read ${r.encoderTokens} features)`,
      seeds > 1 ? `${r.trainSeconds.mean.toFixed(0)} ± ${r.trainSeconds.std.toFixed(0)}` : r.trainSeconds.mean.toFixed(0),
      ...POPE_SAMPLINGS.map((s) => `${show(r.popeAccuracy[s], seeds)} / ${show(r.popeF1[s], seeds)}`),
      show(r.chairI, seeds),
      show(r.chairS, seeds),
      show(r.closedSet, seeds),
    ].join(' | '),
  );
  return [
    '# Sweep',
    '',
    `${rows.length} configs x ${seeds} seed${seeds > 1 ? 's' : ''} (${Array.from({ length: seeds }, (_, i) => i).join(', ')})${seeds > 1 ? '; mean ± standard deviation over seeds' : ''}.`,
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`,
    ...lines.map((l) => `| ${l} |`),
    '',
    'Validation loss of each config\'s last stage, seed 0: `sweep-val-loss.svg`.',
    '',
    sectionsMarkdown(rows, seeds),
    ...rows.map((r) => mitigationMarkdown(r.mitigation, seeds, `## Hallucination mitigation: ${r.name}`)).filter((md) => md !== ''),
  ].join('\n');
}

/** Run names from config file names, made unique when two files share a name. */
function runNames(paths: string[]): string[] {
  const base = paths.map((p) => basename(p).replace(/\.json$/, ''));
  return base.map((b, i) => (base.indexOf(b) === base.lastIndexOf(b) ? b : `${b}-${i + 1}`));
}

/**
 * `mllm sweep`: every config trained and evaluated with the same seeds, each run in its own
 * folder under `out`, then `sweep.json`, `sweep.md` and `sweep-val-loss.svg` side by side.
 * All configs are read and validated before the first run starts, so a typo in the last
 * file does not cost the first runs.
 */
export async function sweep(configPaths: string[], options: SweepOptions): Promise<SweepRow[]> {
  if (configPaths.length === 0) throw new MllmError('mllm sweep needs at least one config: mllm sweep configs/default.json configs/qformer.json');
  if (!Number.isInteger(options.seeds) || options.seeds < 1) throw new MllmError(`--seeds must be an integer >= 1, got ${options.seeds}`);
  if (options.resume && options.force) throw new MllmError('mllm sweep: --resume keeps finished runs and --force retrains them; pass one of the two');
  if (options.jobs !== undefined && !(Number.isInteger(options.jobs) && options.jobs >= 1)) throw new MllmError(`--jobs must be a whole number >= 1 (runs trained at once, e.g. the number of cores), got ${options.jobs}`);
  const configs = await Promise.all(configPaths.map((path) => loadConfig(path, { set: options.set })));
  for (const [i, c] of configs.entries()) {
    try {
      const { registry, raw } = await registryFor(c, dirname(configPaths[i]!));
      checkSizeLimits(parseRunConfig(raw, registry), registry, { backend: options.backend }); // a config too large for the machine is refused before the first run trains
    } catch (e) {
      throw new MllmError(`${configPaths[i]}: ${(e as Error).message}`);
    }
  }
  await mkdir(options.out, { recursive: true });
  // a second sweep into the same folder would train the same runs and overwrite sweep.json: refused while this one holds it
  const lock = await acquireRunLock(options.out, options.logger);
  try {
    return await sweepInFolder(configPaths, configs, options);
  } finally {
    await lock.release();
  }
}

async function sweepInFolder(configPaths: string[], configs: unknown[], options: SweepOptions): Promise<SweepRow[]> {
  const names = runNames(configPaths);
  const rows: SweepRow[] = [];
  const curves: { name: string; points: [number, number][] }[] = [];
  const plans: PlannedRun[] = configs.flatMap((raw, i) =>
    Array.from({ length: options.seeds }, (_, seed) => ({ config: i, raw, configPath: configPaths[i]!, seed, dir: join(options.out, `${names[i]}-seed${seed}`), label: `${names[i]} seed ${seed}` })),
  );
  const reports = (options.jobs ?? 1) > 1 ? await sweepInProcesses(plans, options) : await sweepInThisProcess(plans, options);
  for (const [i, name] of names.entries()) {
    const runs = plans.flatMap((plan, k) => (plan.config === i ? [{ dir: plan.dir, report: reports[k]! }] : []));
    curves.push({ name, points: await lastStageValidation(runs[0]!.dir, runs[0]!.report) });
    rows.push(summarizeRuns(name, configPaths[i]!, runs));
  }
  await writeFile(join(options.out, 'sweep.json'), JSON.stringify({ seeds: options.seeds, rows }, null, 2));
  await writeFile(join(options.out, 'sweep.md'), sweepMarkdown(rows, options.seeds));
  await writeFile(
    join(options.out, 'sweep-val-loss.svg'),
    lineChartSvg({ title: 'validation loss, last stage (seed 0)', xLabel: 'step', yLabel: 'loss', series: curves }),
  );
  return rows;
}

interface PlannedRun {
  /** Index of its config in the sweep's list. */
  config: number;
  raw: unknown;
  configPath: string;
  seed: number;
  dir: string;
  label: string;
}

/** What a sweep run needs: nothing (--resume, finished: its report), or training from scratch or from its checkpoint. */
type RunStart = { finished: RunReportJson } | { mode: ChildRun['mode'] };

async function howToRun(plan: PlannedRun, options: SweepOptions): Promise<RunStart> {
  if (options.resume) {
    const finished = await finishedRunReport(plan.raw, plan.dir, plan.seed, dirname(plan.configPath));
    if (finished) {
      options.logger.info(`sweep: ${plan.label} finished before in ${plan.dir}; its report is reused`);
      return { finished };
    }
    if (hasCheckpoint(plan.dir)) return { mode: 'resume' };
  }
  return { mode: options.force ? 'force' : 'fresh' };
}

function startLine(plan: PlannedRun, mode: ChildRun['mode']): string {
  return `sweep: ${plan.label} -> ${plan.dir}${mode === 'resume' ? ', continued from its checkpoint' : ''}`;
}

/** The runs one after another in this process, stopping at the first that fails. */
async function sweepInThisProcess(plans: PlannedRun[], options: SweepOptions): Promise<RunReportJson[]> {
  const reports: RunReportJson[] = [];
  for (const plan of plans) {
    const start = await howToRun(plan, options);
    if ('finished' in start) {
      reports.push(start.finished);
      continue;
    }
    options.logger.info(startLine(plan, start.mode));
    reports.push(
      await run(plan.raw, {
        out: plan.dir,
        seed: plan.seed,
        force: options.force,
        resume: start.mode === 'resume',
        backend: options.backend,
        threads: options.threads,
        baseDir: dirname(plan.configPath),
        logger: options.logger,
        onProgress: options.onProgress && ((e) => options.onProgress!({ ...e, run: plan.label })),
      }),
    );
  }
  return reports;
}

/**
 * The runs as `options.jobs` processes at a time. Every run is tried even when one fails, so
 * one bad seed does not throw away the others' hours; the error then names each failed run
 * and its log.
 */
async function sweepInProcesses(plans: PlannedRun[], options: SweepOptions): Promise<RunReportJson[]> {
  const tasks = plans.map((plan) => async () => {
    const start = await howToRun(plan, options);
    if ('finished' in start) return start.finished;
    const logPath = `${plan.dir}.log`;
    options.logger.info(`${startLine(plan, start.mode)} (own process, output in ${logPath})`);
    await runInChild({ label: plan.label, configPath: plan.configPath, set: options.set, seed: plan.seed, out: plan.dir, mode: start.mode, backend: options.backend, threads: options.threads, logPath });
    const report = JSON.parse(await readFile(join(plan.dir, 'report.json'), 'utf8')) as RunReportJson;
    options.logger.info(`sweep: ${plan.label} done in ${report.wallSeconds.toFixed(0)} s`);
    return report;
  });
  const settled = await runPool(tasks, options.jobs!);
  const failed = settled.flatMap((s) => (s.status === 'rejected' ? [(s.reason as Error).message] : []));
  if (failed.length > 0) {
    throw new MllmError(
      `${failed.length} of ${plans.length} sweep runs failed:\n  ${failed.join('\n  ')}\nthe runs that finished are kept: fix the cause and rerun the sweep with --resume to train only the rest`,
    );
  }
  return settled.map((s) => (s as PromiseFulfilledResult<RunReportJson>).value);
}

async function lastStageValidation(dir: string, report: RunReportJson): Promise<[number, number][]> {
  const last = report.stages.length - 1;
  const text = await readFile(join(dir, 'metrics.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as MetricRecord)
    .filter((m) => m.stageIndex === last && m.valLoss !== undefined)
    .map((m) => [m.step + 1, m.valLoss!]);
}
