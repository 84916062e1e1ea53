import { z } from 'zod';
import { CHAIN_CARRIES, CHAIN_LENGTHS, CHAIN_STYLES } from '@mllm/data';
import { takesCounterfactuals } from '@mllm/data/internal';

/**
 * An instruct stage's `chainOfThought`: which share of its batches are reasoning questions
 * (half asked with "think step by step ." and trained on a chain, half asked directly) and
 * which chains. The number form (`"chainOfThought": 0.15`) keeps its original meaning: that
 * share, with the original chains (`style: "objects"`: the objects listed, then the answer).
 */

/** `objects`: the original chain; `single` / `tree`: chains with positions and a combining step (see @mllm/data's reasoning-chains). */
export const CHAIN_OF_THOUGHT_STYLES = ['objects', ...CHAIN_STYLES] as const;

const chainOfThoughtObject = z
  .object({
    /** Share of instruction batches that are reasoning batches, half with chains and half direct. */
    share: z.number().min(0).max(1),
    /** `single`: statements in a row; `tree`: sub-questions answered, then combined; `objects`: the original chain. */
    style: z.enum(CHAIN_OF_THOUGHT_STYLES).default('single'),
    /** `fixed`: one step per grid cell, empty ones too; `adaptive`: steps only for the objects the question is about. */
    length: z.enum(CHAIN_LENGTHS).default('fixed'),
    /**
     * `listed`: objects listed, then the count or the places read back from the list; `running`:
     * a count kept at each matching object, the named objects placed first; `checked`: yes/no
     * sub-questions asked of the image, a count kept at each yes, the named objects checked
     * against the sides their relation needs; `restated`: as `running`, with a filtered count's
     * filter restated and answered yes or no after each object; `described`: every cell described first, a count
     * kept as in `running`, places read from the descriptions as in `listed`; `scanned`: as
     * `running` for counts, a spatial chain copying the question's first object, reading every
     * cell in order and marking the named objects' sides where it reads them, then saying whether
     * the first asked was read first, and comparing (see @mllm/data's reasoning-chains).
     */
    carry: z.enum(CHAIN_CARRIES).default('listed'),
    /**
     * Share of chain samples trained in the infilling pattern (the chain shown with one step
     * blanked, that step as the reply) instead of the predicting pattern (the whole chain).
     */
    infilling: z.number().min(0).max(1).default(0),
    /**
     * Share of chain samples (predicting pattern) that are counterfactual: one or two cells
     * described otherwise than the image shows them, those words untrained, every later step and
     * the answer following the description (see @mllm/data's counterfactual-chains).
     */
    counterfactual: z.number().min(0).max(1).default(0),
  })
  .strict()
  .refine((c) => !(c.style === 'objects' && c.infilling > 0), { message: 'infilling needs steps with positions; use style "single" or "tree"', path: ['infilling'] })
  .refine((c) => !(c.style === 'objects' && c.carry !== 'listed'), { message: 'a running, checked, described, restated or scanned chain needs steps with positions; use style "single" or "tree"', path: ['carry'] })
  .refine((c) => c.counterfactual === 0 || (c.style !== 'objects' && takesCounterfactuals({ style: c.style, length: c.length, carry: c.carry })), {
    message: 'counterfactual chains need every cell described before any step reads it: use style "single" or "tree", length "fixed" and carry "listed" or "described"',
    path: ['counterfactual'],
  });

export type ChainOfThought = z.output<typeof chainOfThoughtObject>;

/**
 * A number or an object on input (what the generated JSON Schema shows editors), then the
 * number mapped to its object form, so every error of either form comes with the path of the
 * field at fault (`chainOfThought.share`, `chainOfThought.style`), not a bare "invalid input".
 */
export const chainOfThoughtSchema = z
  .union([z.number(), z.record(z.string(), z.unknown())])
  .pipe(z.transform((c) => (typeof c === 'number' ? { share: c, style: 'objects', length: 'fixed', carry: 'listed', infilling: 0, counterfactual: 0 } : c)))
  .pipe(chainOfThoughtObject)
  .prefault(0)
  .meta({ description: 'A share of instruct batches (0-1), or { share, style: "single" | "tree" | "objects", length: "fixed" | "adaptive", carry: "listed" | "running" | "checked" | "described" | "restated" | "scanned", infilling, counterfactual }' });
