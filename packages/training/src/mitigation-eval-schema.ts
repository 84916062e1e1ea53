import { z } from 'zod';
import type { ConfigIssue } from '@mllm/core';
import { mitigationSchema } from '@mllm/model';
import { ALIGNMENT_STAGES, type StageType } from './stage-schema';
import { toolsSchema } from './tools-config';

/**
 * Post-correction a mitigation method runs on every answer: `woodpecker` (@mllm/correct's
 * training-free pipeline, the run's region detector as expert) or `lure` (the model, trained with
 * an instruct stage's `revise` share, revises its own answer from the image).
 */
export const POST_CORRECTORS = ['woodpecker', 'lure'] as const;
export type PostCorrectionMethod = (typeof POST_CORRECTORS)[number];

/**
 * One mitigation method of the comparison: which policy answers (`model`), how it decodes
 * (`decoding`, in-process) and what corrects its answers afterwards (`correct`, post-correction).
 * The three points of the survey's hallucination chapter: pre-correction is the `final` model of
 * a run whose last stages align it (DPO, RLHF); `instruct` is the same run's policy before any
 * alignment stage, the model with no mitigation.
 */
export const mitigationMethodSchema = z
  .object({
    model: z.enum(['instruct', 'final']).default('final'),
    decoding: mitigationSchema.optional(),
    correct: z.enum(POST_CORRECTORS).optional(),
  })
  .strict();

export type MitigationMethod = z.output<typeof mitigationMethodSchema>;

/**
 * `eval.mitigation`: the evaluation repeated once per named method, each reported in full under
 * `eval.mitigation.<name>` so the methods' CHAIR, attribute CHAIR, FaithScore and POPE sit beside
 * their coverage. `detector` trains the region head post-correction asks (the same head as the
 * vision tools').
 */
export const mitigationEvalSchema = z
  .object({
    methods: z
      .record(z.string().regex(/^[a-z0-9][a-z0-9+_-]*$/, 'method names are lower-case words joined by +, - or _ (e.g. "dpo+woodpecker")'), mitigationMethodSchema)
      .refine((methods) => Object.keys(methods).length > 0, 'needs at least one method, e.g. { "none": { "model": "instruct" } }'),
    detector: toolsSchema.shape.detector,
    /**
     * Woodpecker's expert overrules an object the answer names only where its own call there is
     * at least this sure (the detector's probability of its shape call), as Woodpecker keeps only
     * detections above a threshold. 0.9: on the default model's detector (seeds 0 and 1) 27 of 28
     * wrong shape calls fall below it, and 122 of 1186 right ones.
     */
    minConfidence: z.number().min(0).max(1).default(0.9),
    /**
     * Overrules a named object only where the detector gives the shape the answer names less
     * than this probability (Woodpecker's question asked of the answer's own object); unset:
     * the detector's call (above minConfidence) decides.
     */
    refuteBelow: z.number().min(0).max(1).optional(),
  })
  .strict();

export type MitigationEvalConfig = z.output<typeof mitigationEvalSchema>;

/**
 * Index of the stage after which the `instruct` methods are evaluated: the last instruct stage
 * before the first alignment stage (the last instruct stage when none aligns), or -1 without one.
 */
export function instructPolicyStage(types: readonly unknown[]): number {
  const firstAlignment = types.findIndex((t) => (ALIGNMENT_STAGES as readonly unknown[]).includes(t));
  const before = firstAlignment < 0 ? types : types.slice(0, firstAlignment);
  return before.lastIndexOf('instruct' satisfies StageType);
}

/**
 * A method that asks for the instruct policy needs an instruct stage to take it from; LURE needs
 * a model that learned to revise (an instruct stage with a `revise` share, before the policy it reads).
 */
export function mitigationEvalIssues(mitigation: MitigationEvalConfig | undefined, stages: readonly unknown[]): ConfigIssue[] {
  if (!mitigation) return [];
  const types = stages.map((stage) => (stage as { type?: unknown } | null)?.type);
  const instruct = instructPolicyStage(types);
  const revisesUpTo = (end: number) => stages.slice(0, end).some((s) => (s as { type?: unknown; revise?: unknown }).type === 'instruct' && Number((s as { revise?: unknown }).revise ?? 0) > 0);
  return Object.entries(mitigation.methods).flatMap(([name, method]) => {
    const path = `eval.mitigation.methods.${name}`;
    if (method.model === 'instruct' && instruct < 0) return [{ path: `${path}.model`, message: '"instruct" is the policy an instruct stage trains, and this config has none; add an "instruct" stage or use "final"' }];
    if (method.correct === 'lure' && !revisesUpTo(method.model === 'instruct' ? instruct + 1 : stages.length))
      return [{ path: `${path}.correct`, message: '"lure" asks the model to revise its own answers, which it learns from an instruct stage\'s "revise" share; add e.g. "revise": 0.1 to the instruct stage' }];
    return [];
  });
}
