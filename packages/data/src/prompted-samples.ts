import type { Rng } from '@mllm/core';
import type { Scene } from './scene';
import { IMAGE_TOKEN, captionSample, type LlavaSample, type LlavaTurn } from './llava';
import { fillTemplate, isClosedTask, type InstructionTask } from './instruction-phrasings';
import { taskQueries, type TaskQuery } from './instruction-tasks';
import type { PromptPlan } from './prompt-plan';

/** The batch kinds of the instruct mixture that phrased samples replace (one kind per batch). */
export const PROMPTED_KINDS = ['existence', 'qa', 'caption', 'detail'] as const;
export type PromptedKind = (typeof PROMPTED_KINDS)[number];

/** Tasks that every scene can be asked (a plan must hold in one of them). */
export const ANSWERED_BY_EVERY_SCENE = ['existence', 'count', 'color-count', 'caption', 'detail'] as const;

/** Closed questions packed into one `qa` conversation, as the template data does. */
const QA_TURNS = 3;

/** The tasks a batch kind draws from: existence alone, the other closed tasks, a caption, a description. */
function kindTasks(kind: PromptedKind, plan: PromptPlan): InstructionTask[] {
  if (kind === 'existence' || kind === 'caption' || kind === 'detail') return plan.isHeldIn(kind) ? [kind] : [];
  return plan.heldInTasks.filter((t) => isClosedTask(t) && t !== 'existence');
}

/**
 * The kind a batch of `kind` becomes under `plan`: itself when one of its tasks is held in, else
 * the first kind that has one (a narrow task list still fills every batch with its own tasks).
 */
export function plannedKind(kind: PromptedKind, plan: PromptPlan): PromptedKind {
  if (kindTasks(kind, plan).length > 0) return kind;
  const other = (['qa', 'existence', 'detail', 'caption'] as const).find((k) => kindTasks(k, plan).length > 0);
  if (!other) throw new Error('plannedKind: the plan holds in no task; list at least one in heldInTasks');
  return other;
}

const withImage = (text: string) => `${IMAGE_TOKEN}\n${text}`;

/** A query asked in one of the phrasings the plan trains its task with. */
export function phraseQuery(query: TaskQuery, plan: PromptPlan, rng: Rng): string {
  return fillTemplate(rng.pick(plan.trainedPhrasings(query.task)), query.slots);
}

/**
 * An instruction sample of batch kind `kind` whose every question is a held-in task asked in a
 * trained phrasing: one existence question, up to three other closed questions in one
 * conversation, a caption or a detailed description. A one-phrasing plan asks captions as the
 * world always has (captionSample's prompt chosen by the scene id).
 */
export function promptedSample(scene: Scene, rng: Rng, kind: PromptedKind, plan: PromptPlan): LlavaSample {
  const planned = plannedKind(kind, plan);
  if (planned === 'caption' && plan.mode === 'one') return captionSample(scene);
  let queries: TaskQuery[];
  if (planned === 'qa') {
    const pool = kindTasks('qa', plan).flatMap((task) => taskQueries(scene, task, rng));
    queries = rng.shuffle(pool).slice(0, QA_TURNS);
    // a task list that only some scenes answer (spatial needs two named objects) may leave none here
    if (queries.length === 0) {
      const always = ANSWERED_BY_EVERY_SCENE.find((t) => plan.isHeldIn(t));
      if (!always) throw new Error(`promptedSample: scene ${scene.id} answers none of the held-in tasks; hold in one of ${ANSWERED_BY_EVERY_SCENE.join(', ')}`);
      queries = [rng.pick(taskQueries(scene, always, rng))];
    }
  } else {
    queries = [rng.pick(taskQueries(scene, planned, rng))];
  }
  return {
    id: `${scene.id}-${planned}`,
    image: scene.id,
    conversations: queries.flatMap((q, i): LlavaTurn[] => {
      const prompt = phraseQuery(q, plan, rng);
      return [
        { from: 'human', value: i === 0 ? withImage(prompt) : prompt },
        { from: 'gpt', value: q.answer },
      ];
    }),
  };
}
