import { z } from 'zod';
import { mixtureSchema } from './data-mixture';
import { loraSchema } from './lora';
import { DEFAULT_FEATURE_CACHE_BYTES } from './frozen-features';
import { chainOfThoughtSchema } from './chain-of-thought-option';

// A run's stages: their types, what each trains by default, and the schema of each type's options.

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

export const ENCODER_OBJECTIVES = ['contrastive', 'regions', 'cells'] as const;
export type EncoderObjective = (typeof ENCODER_OBJECTIVES)[number];

export const stageSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('pretrain-encoder'),
      ...stageBase,
      /**
       * Losses summed each step: `contrastive` (CLIP's InfoNCE against captions) and
       * `regions` (each grid cell's tokens name the object and attributes under them) and
       * `cells` (each token names the grid cell it lies in, so the LLM can read where an object is).
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
       * Reasoning batches (count by colour or shape, colour, spatial): a share, or
       * `{ share, style, length, infilling }` (chain-of-thought-option.ts). Half of them ask with
       * "think step by step ." and train on a chain, half ask directly, so the model learns both
       * forms the with/without-reasoning evaluation asks. 0 keeps the batches as before.
       */
      chainOfThought: chainOfThoughtSchema,
      /**
       * Share of instruction batches that are tool-use traces (GPT4Tools / LLaVA-Plus): a
       * question, the controller's tool calls, the tools' results on the ground truth and the
       * answer written from them (@mllm/data tool-traces.ts). 0 keeps the batches as before.
       */
      toolUse: z.number().min(0).max(1).default(0),
      /**
       * Share of instruction batches made of interleaved sequences: several (image, question,
       * answer) pairs under a label mapping drawn per sequence, so later answers can only be read
       * from the earlier pairs (multimodal in-context learning). 0 keeps the batches as before.
       */
      interleaved: z.number().min(0).max(1).default(0),
      /**
       * Share of instruction batches that teach revision (LURE): the image and a description
       * with injected hallucinations and late objects masked as "idk", answered by the true
       * description (@mllm/data revision.ts); `eval.mitigation`'s `correct: "lure"` then asks the
       * model to revise its own answers. 0 keeps the batches as before.
       */
      revise: z.number().min(0).max(1).default(0),
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
