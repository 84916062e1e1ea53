import { z } from 'zod';
import { toolsSchema, type ToolsConfig } from './tools-config';
import { ConfigError, zodIssues, type ComponentRegistry, type ConfigIssue } from '@mllm/core';
import { validateModelConfig, mitigationSchema } from '@mllm/model';
import { expertBridgeIssues } from './expert-bridge-stages';
import { judgesSchema } from './judge-schema';
import { mitigationEvalIssues, mitigationEvalSchema } from './mitigation-eval-schema';
import { instructionsSchema } from './instructions-option';
import { captionDataIssues, captionDataSchema } from './caption-data-schema';
import { ALIGNMENT_STAGES, DEFAULT_TRAINS, STAGE_TYPES, stageSchema, type StageConfig, type StageType } from './stage-schema';

export { STAGE_TYPES, type StageType, TRAINABLE_MODULES, type TrainableModule, DEFAULT_TRAINS, ALIGNMENT_STAGES, defaultTrains, ENCODER_OBJECTIVES, type EncoderObjective, stageSchema, type StageConfig } from './stage-schema';


/** Most scenes a run may ask of the Shapes world (about 1.2 million distinct ones exist). */
export const MAX_SHAPES_SCENES = 1_000_000;

export const dataSchema = z
  .object({
    type: z.literal('shapes').default('shapes'),
    train: z.number().int().min(1).default(4000),
    val: z.number().int().min(1).default(200),
    test: z.number().int().min(1).default(200),
    /** Derived from encoder.imageSize (encoder.highRes.inputSize when set); if written it must agree. */
    imageSize: z.number().int().min(4).optional(),
    /**
     * High-resolution Shapes world: object side as a fraction of the standard world's (1). The
     * canvas is the encoder's input size (encoder.highRes.inputSize when set), so 0.42 on a
     * 64 px canvas draws objects 5-10 px wide, 2.5-5 px once downsampled to 32.
     */
    objectScale: z.number().positive().max(1).optional(),
    /** Object centres on the 32-px world grid (default: the standard draws) or on the rendered image's pixel grid (sub-pixel phases when downsampled). */
    positionGrid: z.enum(['world', 'image']).optional(),
    /** Lowest object colour brightness in (0, 1] (default 1): a blurred small object's colour mass then no longer tells its shape. */
    minBrightness: z.number().positive().max(1).optional(),
    /** Instruct questions in many phrasings, tasks and phrasings held in / out, self-instruction (instructions-option.ts); absent: as always. */
    instructions: instructionsSchema.optional(),
    /** What the align stage's captions are: clean fine-grained (absent), noisy web alt-text, filtered or recaptioned (caption-data-schema.ts). */
    captions: captionDataSchema.optional(),
  })
  .strict()
  // the world draws every scene up front and dedupes them; asking for more than exist would draw for hours
  .superRefine((d, ctx) => {
    const total = d.train + d.val + d.test;
    if (total <= MAX_SHAPES_SCENES) return;
    const largest = (['train', 'val', 'test'] as const).reduce((a, b) => (d[b] > d[a] ? b : a));
    ctx.addIssue({
      code: 'custom',
      path: [largest],
      message: `${d[largest]} is too many: train + val + test (${total}) must be <= ${MAX_SHAPES_SCENES}, since the Shapes world has about 1.2 million distinct scenes and draws them all before training`,
    });
  });

/**
 * Ceilings a run's derived sizes are checked against before anything is allocated (see
 * @mllm/run's size limits). Absent, they follow from the machine: the wasm heap's 4 GiB on the
 * wasm backend, half the machine's memory on a native one.
 */
export const limitsSchema = z
  .object({
    /** Bytes a run may plan for: parameters with gradients and AdamW moments, the largest batch's activations, the rendered images. */
    memoryBytes: z.number().positive().optional(),
    /** Parameters of the whole model (default: memoryBytes / 4, its float32 weights; each stage adds gradients and AdamW moments of what it trains). */
    parameters: z.number().int().positive().optional(),
  })
  .strict();

export const evalSamplingSchema = z
  .object({
    temperature: z.number().gt(0, 'must be > 0 (leave eval.sampling out for greedy answers)').max(100),
    topK: z.number().int().min(1, 'must be an integer >= 1').optional(),
    topP: z.number().gt(0, 'must be in (0, 1]').lte(1, 'must be in (0, 1]').optional(),
    seed: z.number().int('must be an integer').default(0),
  })
  .strict();

export type EvalSampling = z.output<typeof evalSamplingSchema>;

export const evalSchema = z
  .object({
    /** Test scenes used for POPE, closed-set questions and CHAIR captions (all of the test split if omitted). */
    scenes: z.number().int().min(1).optional(),
    popePerImage: z.number().int().min(2).default(6),
    batchSize: z.number().int().min(1).default(64),
    /** Detailed descriptions run to ~60 tokens; shorter answers stop at end-of-turn anyway. */
    maxNewTokens: z.number().int().min(1).default(80),
    /**
     * In-process hallucination mitigation applied to every answer the evaluation generates:
     * VCD (`contrastive`, with `imageNoise` for its distorted image) and PAI's image-attention
     * boost (`imageAttention`); the generation options of @mllm/llm and @mllm/model. Off when absent.
     */
    decoding: mitigationSchema.optional(),
    /**
     * Sampled answers instead of greedy ones (VCD's and OPERA's evaluations sample): softmax at
     * `temperature`, optionally cut to the `topK` tokens or the `topP` nucleus, from a stream
     * seeded by `seed`, so a run repeats. Greedy decoding answers with the mode of what the model
     * learnt; sampling shows what else it learnt to say. Absent: greedy.
     */
    sampling: evalSamplingSchema.optional(),
    /** Judge models of the detailed descriptions (HaELM-style, rubric); off unless set (judge-schema.ts). */
    judges: judgesSchema.optional(),
    /** The evaluation repeated per hallucination-mitigation method (none, DPO, VCD, post-correction, ...); off unless set (mitigation-eval-schema.ts). */
    mitigation: mitigationEvalSchema.optional(),
    /**
     * Few-shot (M-ICL) evaluation: `queries` episodes per task, each asked with 0, 1, 2 and 4
     * demonstrations before it. Absent: none (and the vocabulary stays without its words).
     */
    icl: z.object({ queries: z.number().int().min(1).default(100) }).strict().optional(),
  })
  .strict();

/**
 * 32000 tokens, Llama's vocabulary size: far above the Shapes world's ~100 words, and what keeps a
 * data file with a flood of distinct words (one long record can hold 300,000) from making an
 * embedding of gigabytes. Past it the least frequent words read as <unk> and `mllm run` says how many.
 */
export const DEFAULT_MAX_VOCAB = 32000;

const wordTokenizerSchema = z
  .object({
    type: z.literal('word'),
    minFrequency: z.number().int().min(1).default(1),
    maxVocab: z.number().int().min(16, 'must be >= 16: the 8 special tokens and some words').default(DEFAULT_MAX_VOCAB),
  })
  .strict();

/**
 * Byte-level BPE: every text encodes, so no typed word is lost. 1024 tokens: the 8 specials, the
 * 256 bytes and up to 760 merges, more than the Shapes corpus fills (423 tokens make each of its
 * words one token, as the word tokenizer has them).
 */
const bpeTokenizerSchema = z
  .object({
    type: z.literal('bpe').default('bpe'),
    vocabSize: z.number().int().min(264, 'must be >= 264: the 8 special tokens and the 256 bytes').default(1024),
    /** A pair seen fewer times is never merged. Default 1: the corpus holds each sentence once, so a word of one sentence still becomes a token. */
    minFrequency: z.number().int().min(1).default(1),
  })
  .strict();

/** The run's tokenizer: `bpe` (the default when a config names none) or `word`, chosen by `type`. */
export const tokenizerSchema = z.discriminatedUnion('type', [wordTokenizerSchema, bpeTokenizerSchema]);

const runShape = z
  .object({
    $schema: z.string().optional(),
    description: z.string().optional(),
    /**
     * Modules that add component types (`register(registry)`): paths (made absolute against the
     * config file by the loader) or package names. They load before the rest is validated.
     */
    plugins: z.array(z.string().min(1)).optional(),
    seed: z.number().int().min(0).default(0),
    // a config that names no tokenizer gets byte-level BPE, so no typed word is lost; the shipped
    // configs name theirs (default.json keeps `word`, which its measured figures were made with)
    tokenizer: tokenizerSchema.default({ type: 'bpe', vocabSize: 1024, minFrequency: 1 }),
    encoder: z.unknown(),
    connector: z.unknown(),
    llm: z.unknown(),
    data: dataSchema.default({ type: 'shapes', train: 4000, val: 200, test: 200 }),
    stages: z.array(z.unknown()).min(1, 'needs at least one stage'),
    eval: evalSchema.default({ popePerImage: 6, batchSize: 64, maxNewTokens: 80 }),
    limits: limitsSchema.optional(),
    tools: toolsSchema.optional(),
  })
  .strict();

export interface RunConfig {
  seed: number;
  description?: string;
  plugins?: string[];
  tokenizer: z.output<typeof tokenizerSchema>;
  encoder: { type: string } & Record<string, unknown>;
  connector: { type: string } & Record<string, unknown>;
  llm: { type: string } & Record<string, unknown>;
  data: z.output<typeof dataSchema>;
  stages: StageConfig[];
  eval: z.output<typeof evalSchema>;
  limits?: z.output<typeof limitsSchema>;
  tools?: ToolsConfig;
}

/**
 * A tokenizer block without `type` is BPE; one with the word tokenizer's fields (`maxVocab`)
 * was most likely written for the word tokenizer, the default before BPE, so say how to get it.
 */
function withTokenizerHint(issue: ConfigIssue, raw: unknown): ConfigIssue {
  const tokenizer = (raw as { tokenizer?: unknown } | null)?.tokenizer;
  const wordFieldsUntyped = typeof tokenizer === 'object' && tokenizer !== null && !('type' in tokenizer) && 'maxVocab' in tokenizer;
  if (issue.path !== 'tokenizer' || !wordFieldsUntyped) return issue;
  return { ...issue, message: `${issue.message}: a tokenizer without "type" is byte-level BPE (vocabSize, minFrequency); maxVocab belongs to the word tokenizer, so add "type": "word"` };
}

/**
 * Validates a whole run config before anything is built: every issue is collected with its
 * JSON path (unknown types list the allowed ones), then cross-slot dimensions are checked.
 */
export function parseRunConfig(raw: unknown, registry: ComponentRegistry): RunConfig {
  const issues: ConfigIssue[] = [];
  const top = runShape.safeParse(raw);
  if (!top.success) throw new ConfigError(zodIssues(top.error).map((issue) => withTokenizerHint(issue, raw)));
  const cfg = top.data;
  const model = validateModelConfig(cfg as Record<string, unknown>, registry);
  issues.push(...model.issues);
  const stages: StageConfig[] = [];
  cfg.stages.forEach((stage, i) => {
    const type = (stage as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !(STAGE_TYPES as readonly string[]).includes(type)) {
      issues.push({ path: `stages[${i}].type`, message: `unknown stage type ${JSON.stringify(type)}; allowed: ${STAGE_TYPES.join(', ')}` });
      return;
    }
    const r = stageSchema.safeParse(stage);
    if (r.success) stages.push(r.data);
    else issues.push(...zodIssues(r.error, `stages[${i}]`));
  });
  issues.push(...stageOrderIssues(cfg.stages.map((stage) => (stage as { type?: unknown } | null)?.type)));
  issues.push(...tokenCreditIssues(cfg.stages));
  issues.push(...loraIssues(cfg.stages));
  issues.push(...captionDataIssues(cfg.data.captions, cfg.data.train, cfg.stages.map((stage) => (stage as { type?: unknown } | null)?.type)));
  issues.push(...expertBridgeIssues((cfg as { connector?: { type?: unknown } }).connector?.type, cfg.stages));
  issues.push(...mitigationEvalIssues(cfg.eval.mitigation, cfg.stages));
  const encoder = model.value?.encoder as { imageSize?: number; highRes?: { inputSize?: number } } | undefined;
  // the world renders at what the model takes: a high-resolution encoder's input, else its own size
  const [rendered, from] = encoder?.highRes?.inputSize !== undefined ? [encoder.highRes.inputSize, 'encoder.highRes.inputSize'] : [encoder?.imageSize, 'encoder.imageSize'];
  if (encoder && cfg.data.imageSize !== undefined && cfg.data.imageSize !== rendered)
    issues.push({
      path: 'data.imageSize',
      message: `${cfg.data.imageSize} does not match ${from} ${rendered}; remove data.imageSize (it is derived) or make them equal`,
    });
  if (issues.length) throw new ConfigError(issues);
  return { ...cfg, ...model.value!, stages } as RunConfig;
}

/** LoRA adapts the LLM: a stage with `lora` must train it (explicitly, or by its type's default). */
function loraIssues(stages: unknown[]): ConfigIssue[] {
  return stages.flatMap((raw, i) => {
    const stage = (raw ?? {}) as { type?: unknown; lora?: unknown; trains?: unknown };
    if (stage.lora === undefined || !(STAGE_TYPES as readonly unknown[]).includes(stage.type)) return [];
    const trains = Array.isArray(stage.trains) ? stage.trains : DEFAULT_TRAINS[stage.type as StageType];
    if (trains.includes('llm')) return [];
    return [{ path: `stages[${i}].lora`, message: `LoRA trains the LLM through adapters, but this stage trains ${trains.join(', ')}; add "llm" to stages[${i}].trains or remove lora` }];
  });
}

/** A ppo stage with token-level credit needs the reward model before it to pool over the answer. */
function tokenCreditIssues(stages: unknown[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  let pooling = 'last';
  stages.forEach((raw, i) => {
    const stage = (raw ?? {}) as { type?: unknown; pooling?: unknown; credit?: unknown };
    if (stage.type === 'reward') pooling = typeof stage.pooling === 'string' ? stage.pooling : 'last';
    if (stage.type === 'ppo' && stage.credit === 'token' && pooling === 'last')
      issues.push({
        path: `stages[${i}].credit`,
        message: '"token" credit splits a mean-pooled score over the answer; set the reward stage\'s pooling to "mean", "likelihood" or "ratio", or use credit "answer"',
      });
  });
  return issues;
}

/**
 * Alignment stages tune a policy that instruction tuning made: DPO's reference and PPO's
 * starting point are that policy, and a reward model starts as a copy of it; PPO needs a
 * reward model trained earlier in the same run.
 */
function stageOrderIssues(types: unknown[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  types.forEach((type, i) => {
    if (!(ALIGNMENT_STAGES as readonly unknown[]).includes(type)) return;
    const before = types.slice(0, i);
    if (!before.includes('instruct'))
      issues.push({
        path: `stages[${i}].type`,
        message: `a ${String(type)} stage needs a trained policy to start from; put an "instruct" stage before it`,
      });
    if (type === 'ppo' && !before.includes('reward'))
      issues.push({ path: `stages[${i}].type`, message: 'a ppo stage scores its samples with a reward model; put a "reward" stage before it' });
  });
  return issues;
}
