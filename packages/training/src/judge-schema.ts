import { z } from 'zod';

/**
 * `eval.judges`: learned and external judges of the detailed descriptions (issue: open-set
 * evaluation). Absent by default, so a run without it trains and scores exactly as before.
 *   haelm  - a small text-only judge LM trained here on the Shapes world's responses, measured
 *            by its agreement with the exact checker (HaELM, arXiv:2308.15126);
 *   rubric - 1-10 scores from a judge, measured by rank correlation with the exact scores:
 *            the local judge LM (trained with haelm's options, or these defaults), or an
 *            OpenAI-compatible endpoint.
 */
export const judgeModelSchema = z
  .object({
    /** Training steps of the judge LM; every step draws fresh responses from the train split. */
    steps: z.number().int().min(1).default(400),
    batchSize: z.number().int().min(1).default(32),
    lr: z.number().positive().default(3e-3),
    /** Weight of the next-token loss on the response's words beside the answer's (0: the answer word only). */
    copyLoss: z.number().min(0).default(1),
    /** The judge's causal LM: width, layers, heads (it reads ~120 words: small is enough). */
    dim: z.number().int().min(4).default(64),
    layers: z.number().int().min(1).default(2),
    heads: z.number().int().min(1).default(4),
    /**
     * What of the reference description the haelm judge reads beside each claim: `evidence`,
     * the reference's sentences about the claim's objects (a fact verifier's retrieval step), or
     * `whole`, as HaELM's judge reads all of the image's annotations. With evidence the judge
     * agrees with the exact checker at kappa 0.84 after 3000 steps, against 0.27 reading the
     * whole reference after 2000 (docs/experiments/hallucination-judges.md).
     */
    reference: z.enum(['whole', 'evidence']).default('evidence'),
    /**
     * Training scenes the judged model describes for the judge to train on, labelled by the exact
     * checker, beside the edited descriptions (HaELM trains on responses of the models it
     * judges); half the rows come from them. 0: edited descriptions only.
     */
    modelResponses: z.number().int().min(0).default(0),
    /** Held-out synthetic responses per test scene, beside the run's own descriptions. */
    responsesPerScene: z.number().int().min(1).default(2),
  })
  .strict()
  .refine((c) => c.dim % c.heads === 0 && (c.dim / c.heads) % 2 === 0, { message: 'dim must be a multiple of heads with an even quotient (RoPE)', path: ['heads'] });

export const rubricEndpointSchema = z
  .object({
    /** The API root, e.g. "http://127.0.0.1:8000/v1"; requests go to {baseUrl}/chat/completions. */
    // a pattern, not z.url(): its "uri" format is one editors' JSON Schema validators may not know
    baseUrl: z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http(s) URL such as "http://127.0.0.1:8000/v1"'),
    model: z.string().min(1),
    /** Environment variable with the API key (never the key itself in a config file). */
    apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name such as "OPENAI_API_KEY"').optional(),
    timeoutMs: z.number().int().positive().default(60_000),
    maxTokens: z.number().int().min(1).default(16),
    concurrency: z.number().int().min(1).max(64).default(4),
    /** At most this many responses are sent (each is one request); the rest are not scored. */
    maxResponses: z.number().int().min(2).default(400),
  })
  .strict();

export const judgesSchema = z
  .object({
    haelm: judgeModelSchema.optional(),
    rubric: z.object({ endpoint: rubricEndpointSchema.optional() }).strict().optional(),
  })
  .strict();

export type JudgesConfig = z.output<typeof judgesSchema>;
export type JudgeModelConfig = z.output<typeof judgeModelSchema>;
export type RubricEndpointConfig = z.output<typeof rubricEndpointSchema>;
