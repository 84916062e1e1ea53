import type { Rng } from '@mllm/core';
import type { Scene } from './scene';
import { fillTemplate, type ClosedTask } from './instruction-phrasings';
import { taskQueries } from './instruction-tasks';
import type { PromptPlan } from './prompt-plan';

export type HeldSplit = 'heldIn' | 'heldOut';

/** One zero-shot evaluation question: which task and phrasing split it probes, and its answer. */
export interface HeldOutQuestion {
  sceneId: string;
  task: ClosedTask;
  /** Whether the instruct data tuned on this task. */
  taskSplit: HeldSplit;
  /** Whether the phrasing is one the run trained on (`heldIn`) or one held out of every run (`heldOut`). */
  phrasingSplit: HeldSplit;
  question: string;
  answer: string;
}

/**
 * The held-in / held-out evaluation of `scenes`: per scene and evaluated task, one query (drawn
 * from `rng.fork(scene:task)`, so the same for every plan of the seed), asked in a phrasing the
 * run trained on; for a held-in task, the same query again in a held-out phrasing. Held-out tasks
 * are asked in the phrasings the run would have trained them with. The phrasings are drawn from
 * their own fork, so a one- and a many-phrasing plan ask the same queries and the same held-out
 * phrasings, and differ only in the trained phrasing.
 */
export function heldOutQuestions(scenes: readonly Scene[], plan: PromptPlan, rng: Rng): HeldOutQuestion[] {
  const out: HeldOutQuestion[] = [];
  for (const scene of scenes) {
    for (const task of plan.evaluatedTasks()) {
      const queries = taskQueries(scene, task, rng.fork(`${scene.id}:${task}`));
      if (queries.length === 0) continue;
      const query = rng.fork(`${scene.id}:${task}:query`).pick(queries);
      const taskSplit: HeldSplit = plan.isHeldIn(task) ? 'heldIn' : 'heldOut';
      const ask = (template: string, phrasingSplit: HeldSplit): HeldOutQuestion => ({
        sceneId: scene.id,
        task,
        taskSplit,
        phrasingSplit,
        question: fillTemplate(template, query.slots),
        answer: query.answer,
      });
      out.push(ask(rng.fork(`${scene.id}:${task}:trained`).pick(plan.trainedPhrasings(task)), 'heldIn'));
      const heldOut = plan.heldOutPhrasings(task);
      if (taskSplit === 'heldIn' && heldOut.length > 0) out.push(ask(rng.fork(`${scene.id}:${task}:held-out`).pick(heldOut), 'heldOut'));
    }
  }
  return out;
}
