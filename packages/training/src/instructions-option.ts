import { z } from 'zod';
import { ANSWERED_BY_EVERY_SCENE, CLOSED_TASKS, INSTRUCTION_TASKS, DEFAULT_HELD_IN_TASKS, MAX_HELD_OUT_PHRASINGS } from '@mllm/data/internal';

/**
 * `data.instructions`: how the instruct stages phrase their questions and which tasks they tune
 * on (prompt diversity and held-in / held-out tasks, FLAN and InstructBLIP's recipe), and where
 * their question-answer pairs come from. Absent, instruct data is what it always was (one
 * phrasing per task) and the run reports no `eval.heldOut`.
 */

export const INSTRUCTION_SOURCES = ['templates', 'self-instruct'] as const;

const selfInstructSchema = z
  .object({
    /** Seed examples per held-in closed task, each in a trained phrasing: all the teacher knows of how tasks are asked. */
    seedsPerTask: z.number().int().min(1).default(3),
    /** Candidate pairs written per training scene. */
    perScene: z.number().int().min(1).max(64).default(4),
    /** Chance that the teacher answers wrong; the filter drops those it catches. */
    teacherNoise: z.number().min(0).max(1).default(0.2),
    /** Word-bigram overlap at or above which a second pair asking the same question of a scene is a near duplicate. */
    nearDuplicate: z.number().min(0).max(1).default(0.6),
    minInstructionWords: z.number().int().min(1).default(3),
    maxInstructionWords: z.number().int().min(1).default(14),
    /** false: train on every candidate, wrong answers included (the filter still counts what it would drop). */
    filter: z.boolean().default(true),
  })
  .strict()
  .refine((s) => s.minInstructionWords <= s.maxInstructionWords, { message: 'minInstructionWords must be <= maxInstructionWords', path: ['maxInstructionWords'] });

const unique = (list: readonly string[]) => new Set(list).size === list.length;

export const instructionsSchema = z
  .object({
    /** `many`: every phrasing not held out; `one`: only the world's original phrasing of each task. */
    phrasings: z.enum(['one', 'many']).default('many'),
    /** Phrasings of each task held out of training (drawn per seed), asked at evaluation. */
    heldOutPhrasings: z.number().int().min(1).max(MAX_HELD_OUT_PHRASINGS).default(2),
    /** Tasks the instruct data tunes on. */
    heldInTasks: z
      .array(z.enum(INSTRUCTION_TASKS))
      .min(1, 'list at least one task to tune on')
      .refine(unique, { message: 'list each task once' })
      .refine((t) => t.some((x) => (ANSWERED_BY_EVERY_SCENE as readonly string[]).includes(x)), {
        message: `hold in at least one task every scene answers: ${ANSWERED_BY_EVERY_SCENE.join(', ')}`,
      })
      .default([...DEFAULT_HELD_IN_TASKS]),
    /** Closed tasks never in the instruct data, evaluated zero-shot. */
    heldOutTasks: z
      .array(z.enum(CLOSED_TASKS))
      .min(1, 'list at least one closed task to evaluate zero-shot')
      .refine(unique, { message: 'list each task once' })
      .default(['position', 'size']),
    /** `templates`: questions phrased from the task templates; `self-instruct`: closed questions written by the self-instruction teacher and filtered. */
    source: z.enum(INSTRUCTION_SOURCES).default('templates'),
    selfInstruct: selfInstructSchema.prefault({}),
    /**
     * Share of the pretrain-llm stage's text that is general text: true statements about a scene
     * in the words instructions use ("the colour of the square is red ."), never a question, as
     * a released LLM has read such words before it is instruction-tuned. 0: the LLM pre-trains
     * on captions, descriptions and the original questions only, and a held-out phrasing with a
     * word outside them reaches it untrained.
     */
    generalText: z.number().min(0).max(1).default(0.3),
  })
  .strict()
  .superRefine((c, ctx) => {
    c.heldOutTasks.forEach((task, i) => {
      if (c.heldInTasks.includes(task)) ctx.addIssue({ code: 'custom', path: ['heldOutTasks', i], message: `${task} is also in heldInTasks; a task is either tuned on or held out` });
    });
  });

export type InstructionsConfig = z.output<typeof instructionsSchema>;
