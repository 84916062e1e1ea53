import * as tf from '@tensorflow/tfjs';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, MllmError, encodeSafetensors, loadSafetensors, type Logger, type Module } from '@mllm/core';
import type { RunReportJson } from './report';
import type { SkippedReport, StageProgress, StageResult } from '@mllm/training';
import { CHECKPOINT_DIR, recoverCheckpoint, swapCheckpoint } from './checkpoint-swap';
import { acquireRunLock, LOCK_FILE, type RunLock } from './run-lock';
import { nodeRunDirFs, type RunDirFs } from './run-dir-fs';

/** Progress of a run as stored in `checkpoint/state.json`. */
export interface RunState {
  /** Stage being trained (== number of stages when training finished). */
  stageIndex: number;
  /** Steps finished inside that stage. */
  step: number;
  completed: StageResult[];
  /** Evaluations made between stages (before and after alignment), kept for the report across --resume. */
  evals?: RunReportJson['evals'];
  /** In a mid-stage checkpoint, what the stage counted over its first `step` steps (tokens, MoE routing). */
  stage?: StageProgress;
  /** LLaVA records skipped so far, including those dropped while preparing stages a resumed run does not prepare again. */
  skipped?: Record<string, SkippedReport>;
}

/** Written into every run folder this tool creates: what `--force` recognises as safe to replace. */
export const RUN_MARKER = '.mllm-run';

/** Files of a run folder written before the marker existed: config.json with one of these is a run folder too. */
const RUN_OUTPUTS = ['report.json', 'metrics.jsonl', CHECKPOINT_DIR];

/**
 * Opens `dir` for a run: takes its lock (run-lock.ts), then for --resume recovers its
 * checkpoint, and otherwise refuses a folder that is not empty unless `force` is given and the
 * folder is a run folder of this tool, which is then emptied. The caller releases the lock.
 */
export async function openRunDir(dir: string, options: { force?: boolean; resume?: boolean; logger: Logger }): Promise<RunLock> {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new MllmError(`--out ${dir} is a file, not a folder; name a folder for the run (it is created if missing)`);
  if (options.resume && !existsSync(dir)) throw new CheckpointError(join(dir, CHECKPOINT_DIR, 'state.json'), 'not found; nothing to resume. Start the run without --resume.');
  await mkdir(dir, { recursive: true });
  const lock = await acquireRunLock(dir, options.logger);
  try {
    if (options.resume) {
      if (!(await recoverCheckpoint(dir, options.logger)))
        throw new CheckpointError(join(dir, CHECKPOINT_DIR, 'state.json'), 'not found; nothing to resume. Start the run without --resume.');
    } else {
      const entries = (await readdir(dir)).filter((name) => name !== LOCK_FILE);
      if (entries.length > 0) {
        if (!options.force) throw new MllmError(`run folder ${dir} already exists and is not empty; pass --force to overwrite it or --resume to continue it`);
        if (!isRunFolder(dir, entries)) throw notARunFolder(dir, entries);
        for (const name of entries) await rm(join(dir, name), { recursive: true, force: true });
      }
    }
    await writeFile(join(dir, RUN_MARKER), 'A run folder of mllm (@mllm/run): `mllm run --force` may replace it.\n');
    return lock;
  } catch (e) {
    await lock.release();
    throw e;
  }
}

function isRunFolder(dir: string, entries: string[]): boolean {
  if (entries.includes(RUN_MARKER)) return true;
  return entries.includes('config.json') && entries.some((name) => RUN_OUTPUTS.includes(name) || name.startsWith(`${CHECKPOINT_DIR}.`));
}

function notARunFolder(dir: string, entries: string[]): MllmError {
  const shown = entries.slice(0, 5).map((name) => (statSync(join(dir, name)).isDirectory() ? `${name}/` : name));
  const more = entries.length > shown.length ? ` and ${entries.length - shown.length} more` : '';
  return new MllmError(
    `--force replaces run folders of mllm only, and ${dir} is not one (no ${RUN_MARKER}, nor config.json beside a checkpoint, report.json or metrics.jsonl): ` +
      `it holds ${shown.join(', ')}${more}. Choose another --out, or move those files away yourself if they can go.`,
  );
}

/**
 * Writes model, optimizer and stage-only modules as the run's new checkpoint (checkpoint-swap.ts:
 * a kill at any moment leaves a checkpoint that the next `--resume` recovers; a full disk keeps
 * the previous one).
 */
export async function saveCheckpoint(
  dir: string,
  parts: { model: Module; optimizer?: Record<string, tf.Tensor>; extra?: Module; state: RunState },
  fs: RunDirFs = nodeRunDirFs,
): Promise<void> {
  const files: [string, Buffer][] = [
    ['model.safetensors', encodeSafetensors(parts.model.stateDict(), { format: 'pt' })],
    ['optimizer.safetensors', encodeSafetensors(parts.optimizer ?? {})],
    ['stage.safetensors', encodeSafetensors(parts.extra ? Object.fromEntries(parts.extra.namedParameters()) : {})],
  ];
  await swapCheckpoint(dir, files, parts.state, fs);
}

export async function loadCheckpoint(dir: string): Promise<{
  state: RunState;
  model: Record<string, tf.Tensor>;
  optimizer: Record<string, tf.Tensor>;
  extra: Record<string, tf.Tensor>;
}> {
  const base = join(dir, 'checkpoint');
  const statePath = join(base, 'state.json');
  let state: RunState;
  try {
    state = JSON.parse(await readFile(statePath, 'utf8')) as RunState;
  } catch (e) {
    throw new CheckpointError(statePath, `cannot be read as JSON (${(e as Error).message})`);
  }
  const [model, optimizer, extra] = await Promise.all(
    ['model', 'optimizer', 'stage'].map(async (n) => (await loadSafetensors(join(base, `${n}.safetensors`))).tensors),
  );
  return { state, model: model!, optimizer: optimizer!, extra: extra! };
}

export function disposeAll(tensors: Record<string, tf.Tensor>): void {
  for (const t of Object.values(tensors)) t.dispose();
}

/**
 * LLaVA records skipped by the stages before a checkpoint (`stored`) and by this process
 * (`current`), per file, one reason per line of the file, in line order: what an uninterrupted
 * run reports, since a resumed run prepares only the stages it still trains.
 */
export function mergeSkipped(stored: Record<string, SkippedReport> | undefined, current: Record<string, SkippedReport>): Record<string, SkippedReport> {
  const merged: Record<string, SkippedReport> = {};
  for (const file of new Set([...Object.keys(stored ?? {}), ...Object.keys(current)])) {
    const byLine = new Map<number, string>();
    for (const reason of [...(stored?.[file]?.reasons ?? []), ...(current[file]?.reasons ?? [])]) {
      const line = Number.parseInt(reason.slice(file.length + 1), 10); // reasons read `file:line: why`
      if (!byLine.has(line)) byLine.set(line, reason);
    }
    merged[file] = { count: byLine.size, reasons: [...byLine].sort(([a], [b]) => a - b).map(([, r]) => r) };
  }
  return merged;
}
