import type { ComponentSize } from '@mllm/core';
import type { RunConfig, StageConfig } from '@mllm/training';
import type { MllmRegistry } from './registry';

/**
 * What a run config implies in sizes, computed from its numbers alone (no weights, no world,
 * no tokenizer), so that `run` can refuse what the machine cannot hold before it allocates
 * anything. Activation memory is a rough upper estimate; see `activationBytes`.
 */
export interface RunSizeEstimate {
  /** Parameters per slot; undefined where the type registers no estimator (a plugin's): unknown, never refused. */
  parameters: { encoder?: number; connector?: number; llm?: number };
  /** The sum, when every slot is known. */
  totalParameters?: number;
  vocabSize: number;
  /** True when no tokenizer was given and `vocabSize` is WORD_VOCAB_ESTIMATE. */
  vocabSizeEstimated: boolean;
  /** LLM sequence per sample: text plus the visual tokens of one image. */
  sequenceTokens: number;
  /** Activation bytes of each stage's batch, and of the evaluation batch (path `eval.batchSize`). */
  batches: { path: string; batchSize: number; activationBytes: number }[];
  /** The Shapes world's scenes and their rendered images, cached as float32. */
  scenes: number;
  dataBytes: number;
}

/** Text tokens per sample assumed for activations: Shapes prompts with their answers stay under 100 words, generation stops at `maxNewTokens` (80 by default). */
export const TEXT_TOKENS = 128;
/** Vocabulary assumed for a word tokenizer the run trains itself (the Shapes world has about 100 words; LLaVA text adds its own). */
export const WORD_VOCAB_ESTIMATE = 2048;
const FLOAT_BYTES = 4;
/**
 * Floats a training forward keeps per token and layer for the backward pass, in units of the
 * layer width: the inputs of the norms, of q/k/v/o and of the MLP's two or three matrices, and
 * the MLP's hidden activations (~4 widths wide). A rough count, on the high side.
 */
const KEPT_PER_LAYER = 16;
/** Stages whose batch is pairs (chosen and rejected) or rollouts scored against a reference: twice the forward. */
const PAIRED_STAGES: readonly StageConfig['type'][] = ['dpo', 'reward', 'ppo'];

/**
 * Each slot's size from its type's estimator (`register(..., { estimate })`), the LLM first since
 * connectors are sized by it, then activations per batch and the world's images.
 */
export function estimateRunSize(config: RunConfig, registry: MllmRegistry, options: { vocabSize?: number } = {}): RunSizeEstimate {
  const vocabSize = options.vocabSize ?? WORD_VOCAB_ESTIMATE;
  const encoder = registry.encoders.estimate(config.encoder, {});
  const llm = registry.llms.estimate(config.llm, { vocabSize });
  const connector = encoder && llm ? registry.connectors.estimate(config.connector, { inputDim: encoder.width, inputTokens: encoder.tokens, llm }) : undefined;
  const parameters = { encoder: encoder?.parameters, connector: connector?.parameters, llm: llm?.parameters };
  const known = [encoder, connector, llm].every((s) => s !== undefined);
  const sequenceTokens = TEXT_TOKENS + (connector?.tokens ?? 0);
  const perSample = (training: boolean) =>
    (encoder ? activationBytes(encoder, encoder.forwardTokens ?? encoder.tokens, training) : 0) +
    (connector ? activationBytes(connector, Math.max(connector.tokens, encoder?.tokens ?? 0), training) : 0) +
    (llm ? activationBytes(llm, sequenceTokens, training) + 3 * sequenceTokens * vocabSize * FLOAT_BYTES : 0); // logits, softmax, their gradient
  const batches = config.stages.map((stage, i) => ({
    path: `stages[${i}].batchSize`,
    batchSize: stage.batchSize,
    activationBytes: stage.batchSize * (PAIRED_STAGES.includes(stage.type) ? 2 : 1) * perSample(true),
  }));
  batches.push({ path: 'eval.batchSize', batchSize: config.eval.batchSize, activationBytes: config.eval.batchSize * perSample(false) });
  const imageSize = (config.encoder.highRes as { inputSize?: number } | undefined)?.inputSize ?? (config.encoder.imageSize as number | undefined) ?? 0;
  const scenes = config.data.train + config.data.val + config.data.test;
  return {
    parameters,
    ...(known && { totalParameters: encoder!.parameters + connector!.parameters + llm!.parameters }),
    vocabSize,
    vocabSizeEstimated: options.vocabSize === undefined,
    sequenceTokens,
    batches,
    scenes,
    dataBytes: scenes * imageSize * imageSize * 3 * FLOAT_BYTES,
  };
}

/**
 * Bytes of activations per sample through one component: per layer, `tokens x width` floats
 * times KEPT_PER_LAYER, plus the attention scores and probabilities (2 x heads x tokens^2).
 * Training keeps every layer's for the backward pass; inference holds about one layer's at a time.
 */
export function activationBytes(size: ComponentSize, tokens: number, training: boolean): number {
  const layers = Math.max(1, size.layers);
  const perLayer = tokens * size.width * KEPT_PER_LAYER + 2 * size.heads * tokens * tokens;
  return (training ? layers : 1) * perLayer * FLOAT_BYTES;
}
