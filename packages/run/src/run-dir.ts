import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, MllmError, loadSafetensors, saveSafetensors, type Module } from '@mllm/core';
import { writeFileAtomic } from '@mllm/core/internal';
import type { EvalReport } from '@mllm/eval';
import type { StageResult } from '@mllm/training';

/** Progress of a run as stored in `checkpoint/state.json`. */
export interface RunState {
  /** Stage being trained (== number of stages when training finished). */
  stageIndex: number;
  /** Steps finished inside that stage. */
  step: number;
  completed: StageResult[];
  /** Evaluations made between stages (before and after alignment), kept for the report across --resume. */
  evals?: { after: string; eval: EvalReport & { seconds: number } }[];
}

/** Refuses to overwrite a finished or foreign folder unless told to. */
export async function prepareRunDir(dir: string, options: { force?: boolean; resume?: boolean }): Promise<void> {
  if (options.resume) {
    if (!existsSync(join(dir, 'checkpoint', 'state.json')))
      throw new CheckpointError(join(dir, 'checkpoint', 'state.json'), 'not found; nothing to resume. Start the run without --resume.');
    return;
  }
  if (existsSync(dir) && (await readdir(dir)).length > 0) {
    if (!options.force) throw new MllmError(`run folder ${dir} already exists and is not empty; pass --force to overwrite it or --resume to continue it`);
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
}

/**
 * Writes model, optimizer and stage-only modules into a fresh folder, then swaps it in,
 * so a kill at any moment leaves the previous checkpoint whole.
 */
export async function saveCheckpoint(
  dir: string,
  parts: { model: Module; optimizer?: Record<string, tf.Tensor>; extra?: Module; state: RunState },
): Promise<void> {
  const final = join(dir, 'checkpoint');
  const tmp = join(dir, `checkpoint.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await saveSafetensors(join(tmp, 'model.safetensors'), parts.model.stateDict(), { format: 'pt' });
  await saveSafetensors(join(tmp, 'optimizer.safetensors'), parts.optimizer ?? {});
  await saveSafetensors(join(tmp, 'stage.safetensors'), parts.extra ? Object.fromEntries(parts.extra.namedParameters()) : {});
  await writeFileAtomic(join(tmp, 'state.json'), JSON.stringify(parts.state, null, 2));
  const old = join(dir, `checkpoint.old-${process.pid}`);
  if (existsSync(final)) await rename(final, old);
  await rename(tmp, final);
  await rm(old, { recursive: true, force: true });
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
