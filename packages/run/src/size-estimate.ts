import type { ComponentSize } from '@mllm/core';
import type { RunConfig, StageConfig } from '@mllm/training';
import { DEFAULT_TRAINS } from '@mllm/training/internal';
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
  /**
   * Each stage's memory, and the evaluation's (path `eval.batchSize`): the activations of its batch,
   * and the parameters as the stage holds them (float32 weights of every slot, plus gradients and
   * AdamW's two moments of what it trains), plus a frozen encoder's feature cache.
   */
  batches: StageMemory[];
  /** The Shapes world's scenes and their rendered images, cached as float32. */
  scenes: number;
  dataBytes: number;
}

export interface StageMemory {
  path: string;
  batchSize: number;
  activationBytes: number;
  /** LLM sequence per sample assumed for this batch: text plus one image's visual tokens. */
  sequenceTokens: number;
  /** Parameters the stage trains (a LoRA stage: its adapters and the other trained slots). */
  trainedParameters: number;
  /** Float32 weights of every slot and the gradients of what the stage trains. */
  parameterBytes: number;
  /** AdamW's two moments of what the stage trains: host memory on the wasm and cpu backends (outside the wasm heap), tensors on a native one. */
  optimizerBytes: number;
  /** A frozen encoder's cached features (the smaller of the stage's featureCacheBytes and every scene's). */
  cacheBytes: number;
  /** What the stage can change to need less: `lora` when it trains the whole LLM, `freeze` when it trains the encoder or the LLM. */
  remedies: ('lora' | 'freeze')[];
}

/** Text tokens per sample assumed for activations: Shapes prompts with their answers stay under 100 words, generation stops at `maxNewTokens` (80 by default). */
export const TEXT_TOKENS = 128;
/** Text tokens per sample of an align stage on the Shapes world alone: a prompt and one caption (under 40 words). */
export const CAPTION_TEXT_TOKENS = 64;
/** Vocabulary assumed for a word tokenizer the run trains itself (the Shapes world has about 100 words; LLaVA text adds its own). */
export const WORD_VOCAB_ESTIMATE = 2048;
const FLOAT_BYTES = 4;
/** Bytes a parameter holds as a float32 weight; a trained one adds its gradient (4) and AdamW's two moments (8). */
export const WEIGHT_BYTES = 4;
export const GRADIENT_BYTES = 4;
export const MOMENT_BYTES = 8;
/**
 * Floats a forward keeps per token and layer for the backward pass, in units of the layer width:
 * the inputs of the norms, of q/k/v/o and of the MLP's matrices, and the MLP's hidden activations
 * (~4 widths wide). A rough count, kept for encoders and connectors (not measured at size).
 */
const KEPT_PER_LAYER = 16;
/**
 * The same for an LLM's decoder layer, measured: what a training step holds at its peak per token
 * and layer (the forward's kept tensors with RoPE's and the gated MLP's intermediates and tfjs's
 * copies, and the backward's gradients alive with them). On the wasm heap a SmolLM2-shaped layer
 * (576 wide, MLP 1536) grows the step's peak by ~101 widths a token (docs/experiments/real-sizes.md).
 */
const KEPT_PER_LLM_LAYER = 96;
/** Copies of the attention scores [heads, T, T] a training layer holds at the peak: 2 (scores, probabilities) as counted; 4 in an LLM layer, with the mask added and the gradients. */
const KEPT_SCORES = 2;
const KEPT_LLM_SCORES = 4;
/**
 * Copies of the logits [T, vocab] a training step holds at its peak (logits, log-softmax, one-hot
 * targets, their products and gradients): measured ~10 on the wasm backend with a 49153-id vocabulary.
 */
const KEPT_LOGITS = 10;
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
  const imageSize = (config.encoder.highRes as { inputSize?: number } | undefined)?.inputSize ?? (config.encoder.imageSize as number | undefined) ?? 0;
  const scenes = config.data.train + config.data.val + config.data.test;
  const total = encoder && connector && llm ? encoder.parameters + connector.parameters + llm.parameters : [encoder, connector, llm].reduce((n, s) => n + (s?.parameters ?? 0), 0);
  // the encoder keeps every layer's activations when it trains, or when it is frozen but encoded under the gradient tape
  const perSample = (encoderTaped: boolean, training: boolean, sequenceTokens: number) =>
    (encoder ? activationBytes(encoder, encoder.forwardTokens ?? encoder.tokens, encoderTaped) : 0) +
    (connector ? activationBytes(connector, Math.max(connector.tokens, encoder?.tokens ?? 0), training) : 0) +
    (llm ? activationBytes(llm, sequenceTokens, training, { width: KEPT_PER_LLM_LAYER, scores: KEPT_LLM_SCORES }) + (training ? KEPT_LOGITS : 1) * sequenceTokens * vocabSize * FLOAT_BYTES : 0);
  const batches: StageMemory[] = config.stages.map((stage, i) => {
    const trains = stage.trains ?? DEFAULT_TRAINS[stage.type];
    const lora = 'lora' in stage ? stage.lora : undefined;
    const trained = trains.reduce((n, slot) => n + (slot === 'llm' && lora ? loraParameters(llm, lora) : (parameters[slot] ?? 0)), 0);
    const cached = !trains.includes('encoder') && 'featureCacheBytes' in stage && stage.featureCacheBytes > 0;
    const allFeatures = encoder ? scenes * encoder.tokens * encoder.width * FLOAT_BYTES : 0;
    const paired = PAIRED_STAGES.includes(stage.type) ? 2 : 1;
    // align on generated scenes trains on short captions; LLaVA files and answers may run to TEXT_TOKENS
    const text = stage.type === 'align' && !('data' in stage && stage.data) ? CAPTION_TEXT_TOKENS : TEXT_TOKENS;
    const tokens = text + (connector?.tokens ?? 0);
    return {
      path: `stages[${i}].batchSize`,
      batchSize: stage.batchSize,
      sequenceTokens: tokens,
      activationBytes: stage.batchSize * paired * perSample(!cached, true, tokens),
      trainedParameters: trained,
      parameterBytes: total * WEIGHT_BYTES + trained * GRADIENT_BYTES,
      optimizerBytes: trained * MOMENT_BYTES,
      cacheBytes: cached ? Math.min(stage.featureCacheBytes, allFeatures) : 0,
      remedies: [...(trains.includes('llm') && !lora ? (['lora'] as const) : []), ...(trains.includes('encoder') || trains.includes('llm') ? (['freeze'] as const) : [])],
    };
  });
  batches.push({ path: 'eval.batchSize', batchSize: config.eval.batchSize, sequenceTokens, activationBytes: config.eval.batchSize * perSample(false, false, sequenceTokens), trainedParameters: 0, parameterBytes: total * WEIGHT_BYTES, optimizerBytes: 0, cacheBytes: 0, remedies: [] });
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

/** LoRA's trained parameters: rank x (in + out) per targeted projection and layer, each taken as the LLM's width wide (k/v are narrower under GQA: an upper count). */
function loraParameters(llm: ComponentSize | undefined, lora: { rank: number; targets: string[] }): number {
  if (!llm) return 0;
  const inOut = (target: string) => (['gate_proj', 'up_proj', 'down_proj'].includes(target) ? llm.width + (llm.mlpHidden ?? 4 * llm.width) : 2 * llm.width);
  return llm.layers * lora.targets.reduce((n, t) => n + lora.rank * inOut(t), 0);
}

/**
 * Bytes of activations per sample through one component: per layer, `tokens x width` floats
 * times `kept.width`, plus `kept.scores` copies of the attention scores (heads x tokens^2).
 * Training keeps every layer's for the backward pass; inference holds about one layer's at a time.
 */
export function activationBytes(size: ComponentSize, tokens: number, training: boolean, kept = { width: KEPT_PER_LAYER, scores: KEPT_SCORES }): number {
  const layers = Math.max(1, size.layers);
  const perLayer = tokens * size.width * kept.width + kept.scores * size.heads * tokens * tokens;
  return (training ? layers : 1) * perLayer * FLOAT_BYTES;
}
