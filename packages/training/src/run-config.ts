import { z } from 'zod';
import { ConfigError, zodIssues, type ComponentRegistry, type ConfigIssue } from '@mllm/core';
import { validateModelConfig } from '@mllm/model';
import { mixtureSchema } from './data-mixture';
import { loraSchema } from './lora';
import { DEFAULT_FEATURE_CACHE_BYTES } from './frozen-features';

export const STAGE_TYPES = ['pretrain-encoder', 'pretrain-llm', 'align', 'instruct', 'dpo', 'reward', 'ppo'] as const;
export type StageType = (typeof STAGE_TYPES)[number];
export const TRAINABLE_MODULES = ['encoder', 'connector', 'llm'] as const;
export type TrainableModule = (typeof TRAINABLE_MODULES)[number];

/** What each stage trains unless its config says otherwise (the survey's recipe; LLaVA's for align/instruct). */
export const DEFAULT_TRAINS: Record<StageType, TrainableModule[]> = {
  'pretrain-encoder': ['encoder'],
  'pretrain-llm': ['llm'],
  align: ['connector'],
  instruct: ['connector', 'llm'],
  dpo: ['connector', 'llm'],
  // the reward model's own copy of connector and LLM (it starts as a copy of the policy)
  reward: ['connector', 'llm'],
  ppo: ['connector', 'llm'],
};

/** Stages that tune a policy an earlier stage trained (InstructGPT's order: SFT first). */
export const ALIGNMENT_STAGES: readonly StageType[] = ['dpo', 'reward', 'ppo'];

/**
 * What a stage trains when its config does not say. Fusion connectors (Flamingo) live inside
 * a frozen LLM and are the only thing instruction tuning trains, so the LLM keeps what it
 * learnt in pre-training; token-level connectors (LLaVA) tune the LLM with them.
 */
export function defaultTrains(type: StageType, connectorKind: 'token-connector' | 'fusion-connector'): TrainableModule[] {
  const tunesPolicy = type === 'instruct' || ALIGNMENT_STAGES.includes(type);
  return connectorKind === 'fusion-connector' && tunesPolicy ? ['connector'] : DEFAULT_TRAINS[type];
}

const stageBase = {
  name: z.string().min(1).optional(),
  steps: z.number().int().min(0),
  batchSize: z.number().int().min(1).default(32),
  lr: z.number().positive().default(1e-3),
  warmup: z.number().int().min(0).default(20),
  minLrRatio: z.number().min(0).max(1).default(0.1),
  weightDecay: z.number().min(0).default(0.01),
  clipNorm: z.number().min(0).default(1),
  trains: z.array(z.enum(TRAINABLE_MODULES)).min(1).optional(),
  /** Validation loss every this many steps (0: only at the end). */
  evalEvery: z.number().int().min(0).default(50),
  /** Mid-stage checkpoints for --resume (0: only at the end of the stage). */
  checkpointEvery: z.number().int().min(0).default(100),
};

/**
 * What the stages that train on collated token batches (pretrain-llm, align, instruct) add: LoRA
 * for the LLM they train, and the cache of a frozen encoder's features.
 */
const tokenStage = {
  /** Train the LLM through low-rank adapters (its own weights frozen), merged into it at the stage's end; needs "llm" in `trains`. */
  lora: loraSchema.optional(),
  /**
   * Bytes of a frozen encoder's features kept across steps and epochs, one entry per image (the
   * encoder then runs outside the gradient scope, once per image); 0 encodes every batch.
   */
  featureCacheBytes: z.number().int().min(0).default(DEFAULT_FEATURE_CACHE_BYTES),
};

const positiveSomewhere = (w: Record<string, number>) => Object.values(w).some((x) => x > 0);
const kindWeights = z
  .object({ existence: z.number().min(0).default(1), attribute: z.number().min(0).default(1), relationship: z.number().min(0).default(1) })
  .strict()
  .refine(positiveSomewhere, { message: 'give at least one of existence, attribute, relationship a weight > 0' })
  .default({ existence: 1, attribute: 1, relationship: 1 });
const taskWeights = z
  .object({ caption: z.number().min(0).default(1), detail: z.number().min(0).default(1), question: z.number().min(0).default(1) })
  .strict()
  .refine(positiveSomewhere, { message: 'give at least one of caption, detail, question a weight > 0' })
  .default({ caption: 1, detail: 1, question: 1 });
/**
 * Generated Shapes-world preference pairs: `kinds` weighs the hallucination the rejected answer
 * carries, `tasks` the kind of answer (one task per batch, so a batch pads to similar lengths).
 */
const preferenceData = { kinds: kindWeights, tasks: taskWeights };

/**
 * A stage's data as a weighted mixture of sources (data-mixture.ts); absent, the stage trains on
 * its generated Shapes data alone, exactly as before mixtures existed.
 */
const stageData = mixtureSchema.optional();

export const ENCODER_OBJECTIVES = ['contrastive', 'regions'] as const;
export type EncoderObjective = (typeof ENCODER_OBJECTIVES)[number];

export const stageSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('pretrain-encoder'),
      ...stageBase,
      /**
       * Losses summed each step: `contrastive` (CLIP's InfoNCE against captions) and
       * `regions` (each grid cell's tokens name the object and attributes under them).
       */
      objectives: z
        .array(z.enum(ENCODER_OBJECTIVES))
        .min(1)
        .refine((o) => new Set(o).size === o.length, { message: 'list each objective once' })
        .default(['contrastive']),
      textLayers: z.number().int().min(1).default(1),
      projectionDim: z.number().int().min(1).default(64),
    })
    .strict(),
  z
    .object({
      type: z.literal('pretrain-llm'),
      ...stageBase,
      /**
       * Share of batches that are text-only chat conversations (the scene's caption where
       * the image would be) instead of plain text; a frozen LLM under a fusion connector
       * needs them to know the chat format.
       */
      conversations: z.number().min(0).max(1).default(0),
      data: stageData,
      ...tokenStage,
    })
    .strict(),
  z.object({ type: z.literal('align'), ...stageBase, data: stageData, ...tokenStage }).strict(),
  z
    .object({
      type: z.literal('instruct'),
      ...stageBase,
      data: stageData,
      ...tokenStage,
      /**
       * Share of instruction batches drawn from the reasoning questions (count by colour or shape,
       * colour, spatial): half of them ask with "think step by step ." and train on the chain
       * (objects listed, then the answer), half ask directly, so the model learns both forms of
       * the questions the with/without-reasoning evaluation asks. 0 keeps the batches as before.
       */
      chainOfThought: z.number().min(0).max(1).default(0),
    })
    .strict(),
  z
    .object({
      type: z.literal('dpo'),
      ...stageBase,
      ...preferenceData,
      /** Strength of the pull towards the reference model (TRL's default 0.1). */
      beta: z.number().positive().default(0.1),
      /** cDPO: assumed chance that a pair's label is flipped; 0 is plain DPO. */
      labelSmoothing: z.number().min(0).max(0.5).default(0),
      /**
       * Weight of the chosen answers' mean next-token loss added to DPO's (TRL's rpo_alpha;
       * Pang et al. 2024): keeps DPO from lowering the chosen answers' likelihood with the rejected.
       */
      sftWeight: z.number().min(0).default(0),
    })
    .strict(),
  z
    .object({
      type: z.literal('reward'),
      ...stageBase,
      ...preferenceData,
      /** Weight of mean((r_chosen + r_rejected)^2), keeping scores centred at 0 for PPO. */
      centerRewardsCoefficient: z.number().min(0).default(0.01),
      /** Where the scalar head reads: the last answer position (InstructGPT) or the mean over the answer. */
      pooling: z.enum(['last', 'mean', 'likelihood', 'ratio']).default('last'),
      /** 'ratio' pooling's scale: the score is beta * log(p_reward_model / p_reference) of the answer (DPO's beta). */
      beta: z.number().positive().default(0.1),
      /**
       * InstructGPT's comparison data: this share of training batches pairs the policy's own
       * sampled answers, best against worst of `samples` per prompt as the Shapes world's checker
       * ranks them (sampled-pairs.ts); the rest stay synthetic. Held out, `rewardAccuracy.sampled`.
       */
      sampled: z
        .object({
          share: z.number().min(0).max(1),
          samples: z.number().int().min(2).default(4),
          temperature: z.number().positive().default(1),
          maxNewTokens: z.number().int().min(1).default(80),
        })
        .strict()
        .optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('ppo'),
      ...stageBase,
      tasks: taskWeights,
      /** Optimizer steps on each batch of rollouts (PPO epochs); a step is one update. */
      epochs: z.number().int().min(1).default(2),
      clipRange: z.number().positive().default(0.2),
      clipRangeValue: z.number().positive().default(0.2),
      valueCoef: z.number().min(0).default(0.1),
      /** Per-token KL penalty coefficient (the initial one when klTarget is set). */
      klCoef: z.number().min(0).default(0.05),
      /** Adaptive KL (Ziegler et al. 2019): steer the coefficient so the rollout KL nears this. */
      klTarget: z.number().positive().optional(),
      klHorizon: z.number().int().min(1).default(10000),
      temperature: z.number().positive().default(1),
      maxNewTokens: z.number().int().min(1).default(80),
      gamma: z.number().min(0).max(1).default(1),
      lambda: z.number().min(0).max(1).default(0.95),
      /**
       * Where the reward model's score is paid: `answer` (all of it at the last token, InstructGPT)
       * or `token` (each answer position its share of a mean-pooled score, so a hallucinated word
       * is paid for where it stands; needs the reward stage's pooling 'mean', 'likelihood' or 'ratio').
       */
      credit: z.enum(['answer', 'token']).default('answer'),
    })
    .strict(),
]);
export type StageConfig = z.output<typeof stageSchema>;

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

export const evalSchema = z
  .object({
    /** Test scenes used for POPE, closed-set questions and CHAIR captions (all of the test split if omitted). */
    scenes: z.number().int().min(1).optional(),
    popePerImage: z.number().int().min(2).default(6),
    batchSize: z.number().int().min(1).default(64),
    /** Detailed descriptions run to ~60 tokens; shorter answers stop at end-of-turn anyway. */
    maxNewTokens: z.number().int().min(1).default(80),
  })
  .strict();

/**
 * 32000 tokens, Llama's vocabulary size: far above the Shapes world's ~100 words, and what keeps a
 * data file with a flood of distinct words (one long record can hold 300,000) from making an
 * embedding of gigabytes. Past it the least frequent words read as <unk> and `mllm run` says how many.
 */
export const DEFAULT_MAX_VOCAB = 32000;

export const tokenizerSchema = z
  .object({
    type: z.literal('word').default('word'),
    minFrequency: z.number().int().min(1).default(1),
    maxVocab: z.number().int().min(16, 'must be >= 16: the 8 special tokens and some words').default(DEFAULT_MAX_VOCAB),
  })
  .strict();

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
    tokenizer: tokenizerSchema.default({ type: 'word', minFrequency: 1, maxVocab: DEFAULT_MAX_VOCAB }),
    encoder: z.unknown(),
    connector: z.unknown(),
    llm: z.unknown(),
    data: dataSchema.default({ type: 'shapes', train: 4000, val: 200, test: 200 }),
    stages: z.array(z.unknown()).min(1, 'needs at least one stage'),
    eval: evalSchema.default({ popePerImage: 6, batchSize: 64, maxNewTokens: 80 }),
    limits: limitsSchema.optional(),
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
}

/**
 * Validates a whole run config before anything is built: every issue is collected with its
 * JSON path (unknown types list the allowed ones), then cross-slot dimensions are checked.
 */
export function parseRunConfig(raw: unknown, registry: ComponentRegistry): RunConfig {
  const issues: ConfigIssue[] = [];
  const top = runShape.safeParse(raw);
  if (!top.success) throw new ConfigError(zodIssues(top.error));
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
