import { z } from 'zod';
import { ConfigError, zodIssues, type Rng } from '@mllm/core';

const tokenIds = z.array(z.number().int().min(0, 'token ids are integers >= 0'));

/**
 * Decoding options, HF `GenerationConfig` semantics under camelCase names. Temperature 0 is greedy
 * decoding; above 0 it samples, after (HF's order) repetition penalty, suppressed tokens,
 * temperature, top-k and top-p, from a seeded `Rng` so a seed fixes the tokens.
 */
export const generateOptionsSchema = z
  .object({
    maxNewTokens: z.number().int().min(1, 'must be an integer >= 1'),
    /** Generation of a row ends at the first of these ids (it is not included in the output). */
    stopTokens: tokenIds.default([]),
    /**
     * Generation of a row ends as soon as its decoded text contains one of these; the text is cut
     * before it, and tokens that reach into it are dropped. Needs `decode`.
     */
    stopStrings: z.array(z.string().min(1, 'a stop string must not be empty')).default([]),
    /** 0 (default) = greedy; > 0 samples from softmax(logits / temperature). */
    temperature: z.number().min(0, 'must be >= 0 (0 is greedy decoding)').max(1e6).default(0),
    /** Sample only among the k most likely tokens (ties with the k-th stay). */
    topK: z.number().int().min(1, 'must be an integer >= 1').optional(),
    /** Nucleus sampling: only the smallest set of most likely tokens whose probability adds up to >= topP. */
    topP: z.number().gt(0, 'must be in (0, 1]').lte(1, 'must be in (0, 1]').optional(),
    /**
     * HF CTRL-style penalty on every id already in the sequence (the prompt's real tokens and the
     * generated ones): 1 = none, > 1 discourages repeats, < 1 encourages them. Needs the prompt ids.
     */
    repetitionPenalty: z.number().gt(0, 'must be > 0 (1 = no penalty)').max(1e6).default(1),
    /** Where sampling draws from; or give `seed`. One of the two is required when temperature > 0. */
    rng: z.custom<Rng>((v) => typeof (v as Rng | undefined)?.next === 'function', 'must be an Rng from @mllm/core').optional(),
    seed: z.number().int('must be an integer').optional(),
    /**
     * Ids never to emit (HF's suppress_tokens), e.g. an image placeholder or role tokens that a
     * sampled answer must not contain: their logits are set to -Infinity before picking.
     */
    suppressTokens: tokenIds.default([]),
    /** Token ids -> text; needed for `stopStrings`, and gives streamed events their text. */
    decode: z.custom<(ids: number[]) => string>((v) => typeof v === 'function', 'must be a function (ids) => string').optional(),
    /** false recomputes the whole sequence at every step (HF use_cache=False); for checks and benchmarks. */
    useCache: z.boolean().default(true),
    /**
     * Contrastive decoding against `prompt.contrast` (the same text with a distorted image:
     * VCD, see contrastive-decoding.ts). alpha 0 is plain decoding, exactly.
     */
    contrastive: z
      .object({
        alpha: z.number().min(0, 'must be >= 0 (0 switches contrastive decoding off)').max(100),
        beta: z.number().gt(0, 'must be in (0, 1]: keep tokens with p >= beta x the highest p').lte(1, 'must be in (0, 1]: keep tokens with p >= beta x the highest p').default(0.1),
      })
      .strict()
      .optional(),
    /**
     * PAI's image-attention boost (see `LmForwardOptions.imageAttention`) at every step, on the
     * prompt's image positions (`prompt.imageKeys`). alpha 0 is plain decoding, exactly.
     */
    imageAttention: z
      .object({
        alpha: z.number().min(0, 'must be >= 0 (0 switches the boost off)').max(100),
        fromLayer: z.number().int().min(0, 'must be a decoder layer index >= 0').default(0),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    const sampling = o.temperature > 0;
    if (sampling && !o.rng && o.seed === undefined)
      ctx.addIssue({ code: 'custom', path: ['rng'], message: 'sampling (temperature > 0) needs a seeded rng or a seed, so it is reproducible' });
    if (o.rng && o.seed !== undefined) ctx.addIssue({ code: 'custom', path: ['seed'], message: 'give rng or seed, not both' });
    for (const key of ['topK', 'topP'] as const)
      if (!sampling && o[key] !== undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: 'only applies when sampling; set temperature > 0 (temperature 0 is greedy decoding)' });
    if (o.stopStrings.length > 0 && !o.decode)
      ctx.addIssue({ code: 'custom', path: ['decode'], message: 'stopStrings need decode (token ids -> text), e.g. (ids) => tokenizer.decode(ids)' });
  });

export type GenerateOptions = z.input<typeof generateOptionsSchema>;
export type ResolvedGenerateOptions = z.output<typeof generateOptionsSchema>;

/** Checks options (and their ids against the vocabulary when given); throws a ConfigError listing every problem. */
export function resolveGenerateOptions(options: GenerateOptions, vocabSize?: number): ResolvedGenerateOptions {
  const parsed = generateOptionsSchema.safeParse(options);
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error), 'Invalid generation options');
  if (vocabSize !== undefined) {
    const issues = (['stopTokens', 'suppressTokens'] as const).flatMap((key) =>
      parsed.data[key].filter((id) => id >= vocabSize).map((id) => ({ path: key, message: `id ${id} is outside the vocabulary (size ${vocabSize})` })),
    );
    if (issues.length) throw new ConfigError(issues, 'Invalid generation options');
  }
  return parsed.data;
}
