import type * as tf from '@tensorflow/tfjs';
import type { Module } from './module';
import type { Registry } from './registry';
import type { Rng } from './rng';
import type { AttentionPattern } from './nn/masks';

/** Encoder plug point: pixels [B, H, W, C] in [0, 1] -> features [B, N, D_enc]. */
export interface VisionEncoder extends Module {
  readonly kind: 'vision-encoder';
  readonly imageSize: number;
  readonly outputDim: number;
  /** N: feature tokens per image. */
  readonly numTokens: number;
  /** How the features were made: one resized view, or tiles plus a global thumbnail. */
  readonly strategy: 'resize' | 'tiles';
  encode(pixels: tf.Tensor4D): tf.Tensor3D;
  /** One vector per image [B, D_enc] for contrastive pre-training (CLIP: the normalised CLS token). */
  pooled(pixels: tf.Tensor4D): tf.Tensor2D;
}

/** Token-level connector: [B, N, D_enc] -> [B, M, D_llm]; the model splices the M tokens at `<image>`. */
export interface TokenConnector extends Module {
  readonly kind: 'token-connector';
  /** M for a given N. */
  outputTokens(inputTokens: number): number;
  forward(features: tf.Tensor3D): tf.Tensor3D;
}

export interface LmForwardOptions {
  /** [B, T] 1 for real tokens, 0 for padding. */
  attentionMask?: number[][];
  /** Positions [B, T]; defaults to 0..T-1 (after any cached ones). */
  positions?: number[][];
  pattern?: AttentionPattern;
  prefixLengths?: number[];
  cache?: KvCache;
}

/** Per-layer keys/values from earlier steps; `update` is called by the model with the new ones. */
export interface KvCache {
  layers: ({ key: tf.Tensor4D; value: tf.Tensor4D } | undefined)[];
  /** Key mask so far, [B][S]. */
  keyMask: number[][];
}

/** LLM plug point: token embeddings in, next-token logits out. */
export interface LanguageModel extends Module {
  readonly kind: 'language-model';
  readonly dim: number;
  readonly vocabSize: number;
  readonly numLayers: number;
  embed(ids: tf.Tensor2D): tf.Tensor3D;
  /** embeds [B, T, D] -> { logits [B, T, V], hidden [B, T, D] } (hidden after the final norm). */
  forward(embeds: tf.Tensor3D, options?: LmForwardOptions): { logits: tf.Tensor3D; hidden: tf.Tensor3D };
}

export interface EncoderContext {
  rng: Rng;
}
export interface ConnectorContext {
  rng: Rng;
  inputDim: number;
  outputDim: number;
  inputTokens: number;
}
export interface LlmContext {
  rng: Rng;
  vocabSize: number;
}

/** One registry per slot. Packages add their types through explicit `register*` calls. */
export interface ComponentRegistry {
  encoders: Registry<EncoderContext, VisionEncoder>;
  connectors: Registry<ConnectorContext, TokenConnector>;
  llms: Registry<LlmContext, LanguageModel>;
}
