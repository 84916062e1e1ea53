import { Rng } from '@mllm/core';
import { FEW_SHOT_TASKS, fewShotEpisode, type Scene } from '@mllm/data';
import type { IclSet } from '@mllm/eval';
import { type RunConfig } from '@mllm/training';
import { trainsInterleaved } from '@mllm/training/internal';

/** Demonstrations before each query in the few-shot evaluation. */
export const ICL_SHOTS: readonly number[] = [0, 1, 2, 4];

/** Whether a run needs the interleaved questions and labels: it trains on them, or evaluates few-shot. */
export function usesInterleaved(config: RunConfig): boolean {
  return trainsInterleaved(config.stages) || config.eval.icl !== undefined;
}

/**
 * The few-shot episodes of a run with `eval.icl`: per task, `queries` queries about the test
 * scenes, each with demonstrations about other test scenes and a mapping (or kind) of its own,
 * drawn from their own stream so that every other question of the evaluation stays as it was.
 */
export function buildIclSet(scenes: readonly Scene[], config: RunConfig): IclSet | undefined {
  const options = config.eval.icl;
  if (!options) return undefined;
  const rng = new Rng(config.seed).fork('eval:icl');
  const most = Math.max(...ICL_SHOTS);
  const tasks: IclSet['tasks'] = {};
  for (const task of FEW_SHOT_TASKS) {
    const taskRng = rng.fork(task);
    tasks[task] = Array.from({ length: options.queries }, () => fewShotEpisode(task, scenes, taskRng, most));
  }
  return { shots: ICL_SHOTS, tasks };
}
