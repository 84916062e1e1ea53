import { Rng } from '@mllm/core';
import { PromptPlan, heldOutQuestions, type HeldOutQuestion, type ShapesWorld } from '@mllm/data';
import { heldOutAccuracy, type Answerer, type HeldOutResult } from '@mllm/eval';
import type { RunConfig } from '@mllm/training';

/** The plan of a run's `data.instructions` (which tasks and phrasings it holds out), or undefined when it has none. */
export function runPromptPlan(config: RunConfig): PromptPlan | undefined {
  const c = config.data.instructions;
  return c && new PromptPlan({ seed: config.seed, phrasings: c.phrasings, heldOutPhrasings: c.heldOutPhrasings, heldInTasks: c.heldInTasks, heldOutTasks: c.heldOutTasks });
}

/** The held-in / held-out questions on the run's test scenes (the scenes the rest of the evaluation asks about), from Rng(seed).fork('eval:held-out'). */
export function heldOutEvalSet(world: ShapesWorld, config: RunConfig, plan: PromptPlan): HeldOutQuestion[] {
  const scenes = world.scenes('test').slice(0, config.eval.scenes ?? Infinity);
  return heldOutQuestions(scenes, plan, new Rng(config.seed).fork('eval:held-out'));
}

/**
 * `eval.heldOut` of a run with `data.instructions`: every held-in / held-out question asked of
 * `answerer` in batches of eval.batchSize and scored by exact match; undefined without it.
 */
export async function evaluateHeldOut(answerer: Answerer, world: ShapesWorld, config: RunConfig): Promise<HeldOutResult | undefined> {
  const plan = runPromptPlan(config);
  if (!plan) return undefined;
  const questions = heldOutEvalSet(world, config, plan);
  const replies: string[] = [];
  for (let start = 0; start < questions.length; start += config.eval.batchSize) {
    const batch = questions.slice(start, start + config.eval.batchSize);
    replies.push(...(await answerer.answer(batch.map((q) => ({ sceneId: q.sceneId, prompt: q.question })))));
  }
  return heldOutAccuracy(questions.map((q, i) => ({ ...q, prediction: replies[i] ?? '' })));
}
