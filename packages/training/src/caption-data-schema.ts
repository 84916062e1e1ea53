import { z } from 'zod';
import type { ConfigIssue } from '@mllm/core';

/**
 * `data.captions`: what the align stage (the survey's pre-training on image-caption pairs)
 * trains on. Absent, it is the world's clean fine-grained caption of every train scene, as
 * before the option existed. The recipes of the survey's section 3.1 are options here:
 * - `source: "web"`: coarse alt-text with a known share of noise (@mllm/data web-captions.ts);
 * - `filter`: CLIP filtering, a contrastive scorer trained in the run keeps the pairs whose
 *   image-text cosine similarity is high (LAION-400M kept those >= 0.3 under OpenAI's ViT-B/32
 *   CLIP, a value chosen by human inspection; LAION-5B >= 0.28);
 * - `recaption`: ShareGPT4V, a captioner trained on a small fine-grained set rewrites the pool.
 */

/** The contrastive model that scores (image, caption) pairs for the filter. */
export const captionScorerSchema = z
  .object({
    /**
     * `clean`: a small curated set of `scenes` train scenes with clean alt-text (as LAION's CLIP
     * came from elsewhere); `pool`: the noisy pool itself, noise included.
     */
    trainOn: z.enum(['clean', 'pool']).default('clean'),
    /** Scenes of the clean set (trainOn "clean"). */
    scenes: z.number().int().min(1).default(500),
    steps: z.number().int().min(1).default(200),
    batchSize: z.number().int().min(2).default(64),
    lr: z.number().positive().default(2e-3),
    warmup: z.number().int().min(0).default(20),
    /**
     * NegCLIP's hard negatives (Yuksekgonul et al., arXiv:2210.01936): each image's caption with
     * one colour, shape or count changed is one more text it must score below its own.
     */
    hardNegatives: z.boolean().default(true),
    projectionDim: z.number().int().min(1).default(64),
    textLayers: z.number().int().min(1).default(1),
  })
  .strict();

export const captionFilterSchema = z
  .object({
    /**
     * Keep pairs whose cosine similarity is >= this (LAION-400M: 0.3, LAION-5B: 0.28, both under
     * ViT-B/32). This scorer's scale is its own: read the pool's per-label score quantiles in the
     * align stage's report (`captions.filter.scores`) before choosing one.
     */
    threshold: z.number().min(-1).max(1).optional(),
    /** Or keep this share of the pool, the highest-scoring pairs (DataComp's "top 30%" rule). */
    keep: z.number().gt(0).max(1).optional(),
    scorer: captionScorerSchema.prefault({}),
  })
  .strict()
  .superRefine((f, ctx) => {
    if ((f.threshold === undefined) === (f.keep === undefined))
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of threshold (a cosine similarity, e.g. 0.9) or keep (a share of the pool, e.g. 0.6)' });
  });

/** The captioner of the recaptioning recipe: a copy of the model trained on a small fine-grained set. */
export const recaptionSchema = z
  .object({
    /** Train scenes with clean fine-grained captions the captioner learns from (ShareGPT4V: 100K of 1.2M). */
    scenes: z.number().int().min(1).default(500),
    steps: z.number().int().min(1).default(300),
    batchSize: z.number().int().min(1).default(32),
    lr: z.number().positive().default(3e-3),
    warmup: z.number().int().min(0).default(20),
    /** A fine-grained caption of four objects runs to ~30 tokens. */
    maxNewTokens: z.number().int().min(1).default(48),
  })
  .strict();

export const captionDataSchema = z
  .object({
    /** `fine`: the world's caption (size, colour, shape, cell of every object); `web`: short noisy alt-text. */
    source: z.enum(['fine', 'web']).default('fine'),
    /** Train scenes the pool covers (the first of the train split); default all of them. */
    scenes: z.number().int().min(1).optional(),
    /** Web source: share of pairs that are noise, wrong or unrelated. */
    noise: z.number().min(0).max(1).optional(),
    /** Web source: share of the noise that is wrong about its image (a colour, shape or count); the rest is unrelated. */
    wrongShare: z.number().min(0).max(1).optional(),
    filter: captionFilterSchema.optional(),
    recaption: recaptionSchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.source === 'fine')
      for (const key of ['noise', 'wrongShare', 'filter', 'recaption'] as const)
        if (c[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `only the web source has ${key === 'recaption' ? 'captions to rewrite' : key === 'filter' ? 'noise to filter' : 'noise'}; set data.captions.source to "web" or remove ${key}` });
    if (c.filter && c.recaption) ctx.addIssue({ code: 'custom', path: ['recaption'], message: 'recaptioning rewrites every caption, so there is nothing left to filter; use either filter or recaption' });
  });

export type CaptionDataConfig = z.output<typeof captionDataSchema>;
export type CaptionFilterConfig = z.output<typeof captionFilterSchema>;
export type CaptionScorerConfig = z.output<typeof captionScorerSchema>;
export type RecaptionConfig = z.output<typeof recaptionSchema>;

/** The web source's noise share when `noise` is not written. */
export const DEFAULT_WEB_NOISE = 0.4;

/** `data.captions` against the rest of the config: it feeds align stages, and its sets come from the train split. */
export function captionDataIssues(captions: CaptionDataConfig | undefined, train: number, stageTypes: readonly unknown[]): ConfigIssue[] {
  if (!captions) return [];
  const issues: ConfigIssue[] = [];
  if (!stageTypes.includes('align')) issues.push({ path: 'data.captions', message: 'the captions feed the align stage, and this run has none; add an "align" stage or remove data.captions' });
  const sizes: [string, number | undefined][] = [
    ['data.captions.scenes', captions.scenes],
    ['data.captions.filter.scorer.scenes', captions.filter?.scorer.trainOn === 'clean' ? captions.filter.scorer.scenes : undefined],
    ['data.captions.recaption.scenes', captions.recaption?.scenes],
  ];
  for (const [path, n] of sizes)
    if (n !== undefined && n > train) issues.push({ path, message: `${n} is more than the ${train} train scenes (data.train); lower it or raise data.train` });
  return issues;
}
