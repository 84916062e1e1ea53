import { z } from 'zod';
import type { StageConfig } from './stage-schema';

/**
 * A run's vision tools for LLM-aided reasoning (`"tools"` in a run config): which tools the
 * controller may call, the detector they see the image through, and the tool evaluation.
 * Absent, a run has no tools and its evaluation, vocabulary and batches are as before.
 */
export const toolsSchema = z
  .object({
    /** The tools the controller may call, by registered type (`registry.tools`), each with its options. */
    use: z
      .array(z.object({ type: z.string().min(1) }).passthrough())
      .min(1, 'needs at least one tool, e.g. [{ "type": "detect" }]')
      .default([{ type: 'detect' }, { type: 'count' }, { type: 'compare' }]),
    /**
     * The object detector every built-in tool reads: a region head (the `regions` objective's
     * head) trained on the frozen encoder over training scenes after the encoder is trained.
     */
    detector: z
      .object({
        steps: z.number().int().min(1).default(400),
        batchSize: z.number().int().min(1).default(64),
        lr: z.number().positive().default(0.003),
      })
      .strict()
      .default({ steps: 400, batchSize: 64, lr: 0.003 }),
    /** Calls the controller may make for one question before it must answer; a longer trace is cut and scored wrong. */
    maxCalls: z.number().int().min(1).max(8).default(3),
    /** Test scenes asked tool questions (one question of each type a scene allows). */
    scenes: z.number().int().min(1).default(100),
  })
  .strict();

export type ToolsConfig = z.output<typeof toolsSchema>;

/** Whether stages before `upTo` (all when absent) train on tool-use traces: the controller is finetuned, not prompted. */
export function trainsToolUse(stages: readonly StageConfig[], upTo = stages.length): boolean {
  return stages.slice(0, upTo).some((s) => s.type === 'instruct' && s.toolUse > 0);
}
