import type * as tf from '@tensorflow/tfjs';
import type { Module } from './module';
import type { Registry } from './registry';
import type { Rng } from './rng';
import type { AttentionPattern } from './nn/masks';
import type { ModalityRouting } from './nn/transformer-block';
import type { MoeAux } from './nn/moe';

/**
 * Where an encoder's N tokens sit on the image: `leading` tokens that are not on the grid (CLIP's
 * CLS when kept), then rows x columns patch tokens in raster order (row by row), then `trailing`
 * ones, so N = leading + rows * columns + trailing. A spatial connector (C-Abstractor's pooling,
 * pixel shuffle) slices the grid out of [B, N, D] and reshapes it to [B, rows, columns, D].
 */
export interface TokenGrid {
  readonly rows: number;
  readonly columns: number;
  readonly leading: number;
  readonly trailing: number;
}

/** Encoder plug point: pixels [B, H, W, C] in [0, 1] -> features [B, N, D_enc]. */
export interface VisionEncoder extends Module {
  readonly kind: 'vision-encoder';
  readonly imageSize: number;
  readonly outputDim: number;
  /** N: feature tokens per image. */
  readonly numTokens: number;
  /**
   * The layout of `encode`'s tokens for the square imageSize input; absent when they are not one
   * grid (tiles with separators and a thumbnail), so a connector that needs a grid can refuse.
   */
  readonly tokenGrid?: TokenGrid;
  /** How the features were made: one resized view, or tiles plus a global thumbnail. */
  readonly strategy: 'resize' | 'tiles';
  /**
   * The per-channel (x - mean) / std it applies to [0, 1] pixels itself, when it does; methods
   * that work in the model's input space (VCD's image noise) need it. Absent: pixels are used as given.
   */
  readonly pixelNormalization?: { mean: readonly number[]; std: readonly number[] };
  encode(pixels: tf.Tensor4D): tf.Tensor3D;
  /** One vector per image [B, D_enc] for contrastive pre-training (CLIP: the normalised CLS token). */
  pooled(pixels: tf.Tensor4D): tf.Tensor2D;
  /**
   * Spatial tokens alone as one square patch grid [B, G*G, D_enc], for dense pre-training
   * objectives (the regions loss) when `encode` adds more (a tiled encoder's thumbnail and
   * separators); absent: `encode`'s tokens are that grid.
   */
  gridTokens?(pixels: tf.Tensor4D): tf.Tensor3D;
  /** G*G of `gridTokens`; absent: numTokens. */
  readonly gridTokenCount?: number;
  /**
   * N for an input canvas of height x width pixels, for encoders that take more than the
   * square imageSize (a tiled encoder's other grids); throws for a canvas it does not take.
   * Absent: only the imageSize x imageSize canvas, of numTokens.
   */
  tokensForCanvas?(height: number, width: number): number;
  /**
   * The canvas an image of width x height is resized into (aspect ratio kept) and padded to
   * before encoding: a tiled encoder's grid for that aspect ratio (LLaVA-NeXT's
   * select_best_resolution). Absent: the square imageSize.
   */
  canvasFor?(width: number, height: number): { width: number; height: number };
  /**
   * Encoder parameters that every stage training the connector trains too: they shape the
   * token layout the LLM reads rather than the features (LLaVA-NeXT trains its image_newline
   * with the projector while the vision tower stays frozen).
   */
  readonly trainedWithConnector?: readonly tf.Variable[];
}

/** Token-level connector: [B, N, D_enc] -> [B, M, D_llm]; the model splices the M tokens at `<image>`. */
export interface TokenConnector extends Module {
  readonly kind: 'token-connector';
  /** M for a given N. */
  outputTokens(inputTokens: number): number;
  forward(features: tf.Tensor3D): tf.Tensor3D;
  /**
   * Heads an encoder pre-training objective trains that this connector keeps, by objective name
   * (an expert bridge's detector is the `regions` head): the stage that trained a head loads its
   * weights into the module here when it ends. Absent: the connector keeps none.
   */
  readonly trainedHeads?: Readonly<Record<string, Module>>;
}

export interface LmForwardOptions {
  /** [B, T] 1 for real tokens, 0 for padding. */
  attentionMask?: number[][];
  /** Positions [B, T]; defaults to 0..T-1 (after any cached ones). */
  positions?: number[][];
  pattern?: AttentionPattern;
  /**
   * Per row, how many leading positions (left padding included) form the prefix: the prompt,
   * up to the first trained token. Read by LLMs with `needsPrefix`; ignored by causal ones.
   */
  prefixLengths?: number[];
  cache?: KvCache;
  /**
   * Feature-level connector hooks for this call (DESIGN "Plug points"). The LLM calls each one
   * it honours (see `LanguageModel.fusionPoints`); during KV-cache decoding the caller passes
   * the same hooks at every step, since they carry the visual context the cache does not.
   */
  fusion?: LayerFusion;
  /**
   * Pay more attention to the image (PAI, Liu et al. 2024, arXiv:2407.21771): in decoder layers
   * from `fromLayer` on, the scaled attention scores of the token being generated to the image's
   * key positions grow by alpha x their magnitude before the softmax. Read by LLMs with `boostsImageAttention`.
   */
  imageAttention?: ImageAttentionBoost;
}

/** See `LmForwardOptions.imageAttention`. */
export interface ImageAttentionBoost {
  /** Per row, the key positions (in the whole sequence, cached ones included) that hold image tokens. */
  imageKeys: readonly (readonly number[])[];
  /**
   * Queries at this sequence position and after are boosted (cached ones included in the count);
   * absent: only this call's last query. Decoding passes the prompt's last position, so a
   * recomputed sequence boosts exactly the queries a KV-cached decoder boosted, each when it was new.
   */
  queriesFrom?: number;
  /** 0 = no change (PAI uses 0.5 for LLaVA-1.5). */
  alpha: number;
  /** First decoder layer boosted (PAI: 2 of LLaVA-1.5's 32). */
  fromLayer: number;
}

/**
 * Where a fusion connector enters the decoder (DESIGN "Plug points"): `before-layer` (a residual
 * insert, Flamingo), `modality-routing` (image positions take their own q/k/v and feed-forward
 * weights, CogVLM) and `kv-prefix` (gated key/value prefixes in self-attention, LLaMA-Adapter).
 * Each point is a member here plus an optional method on `LayerFusion`, so an LLM that lacks
 * it is refused at build time.
 */
export type FusionPoint = 'before-layer' | 'modality-routing' | 'kv-prefix';

/** Where this call's queries sit in the whole sequence: query t is sequence position past + t. */
export interface FusionStep {
  past: number;
}

/** Per-forward hooks a fusion connector hands the LLM, already bound to one batch's images. */
export interface LayerFusion {
  /** Before decoder layer `layer`: hidden [B, T, D] -> new hidden [B, T, D] (the residual insert of Flamingo). */
  beforeLayer?(layer: number, hidden: tf.Tensor3D, step: FusionStep): tf.Tensor3D;
  /**
   * Extra key/value sources for decoder layer `layer`'s self-attention: `states` [B, P, D] go
   * through that layer's own k/v projections (no RoPE, seen by every query), their softmax is
   * scaled per head by `gate` [H] and added to the attention output. Undefined: none here.
   * Never cached: the LLM asks again at every decoding step.
   */
  kvPrefix?(layer: number): { states: tf.Tensor3D; gate: tf.Tensor1D } | undefined;
  /**
   * Per-position weights for decoder layer `layer` over this call's `queries` positions (from
   * `step.past` on): the image-position mask and the image side's q/k/v projections and
   * feed-forward. Undefined: every position is text, the layer runs as it is.
   */
  routing?(layer: number, step: FusionStep, queries: number): ModalityRouting | undefined;
  /** Frees what `bind` computed up front (the projected visual context). */
  dispose(): void;
}

/** Where each image sits: batch row, and the sequence position of its `<image>` marker. */
export interface MediaSlot {
  row: number;
  start: number;
}

/**
 * Feature-level connector: leaves the token sequence alone (the `<image>` marker stays a
 * text token) and plugs the encoder features into the LLM's decoder layers instead.
 */
export interface FusionConnector extends Module {
  readonly kind: 'fusion-connector';
  /** Plug points the LLM must honour, checked when the model is assembled. */
  readonly requires: readonly FusionPoint[];
  /**
   * A fusion connector that also puts the image into the sequence (CogVLM) gives its visual
   * tokens per image for N encoder features; absent: `<image>` stays one text token.
   */
  outputTokens?(inputTokens: number): number;
  /** features [N_img, N, D_enc] -> visual tokens [N_img, M, D_llm], spliced at `<image>` as a token connector's are. */
  embedImages?(features: tf.Tensor3D): tf.Tensor3D;
  /** features [N_img, N, D_enc] in `slots` order, for a batch of `batchSize` rows -> hooks for one forward or one whole generation. */
  bind(features: tf.Tensor3D, slots: readonly MediaSlot[], batchSize: number): LayerFusion;
}

/** Per-layer keys/values from earlier steps; `update` is called by the model with the new ones. */
export interface KvCache {
  layers: ({ key: tf.Tensor4D; value: tf.Tensor4D } | undefined)[];
  /** Key mask so far, [B][S]. */
  keyMask: number[][];
  /**
   * An encoder-decoder's encoder side, filled at the prefill and read by every later step: each
   * decoder layer's cross-attention keys/values [B, Hkv, S_enc, dh] and the encoder key mask
   * [B][S_enc]. Absent for decoder-only LMs.
   */
  encoder?: { layers: { key: tf.Tensor4D; value: tf.Tensor4D }[]; keyMask: number[][] };
}

/** LLM plug point: token embeddings in, next-token logits out. */
export interface LanguageModel extends Module {
  readonly kind: 'language-model';
  readonly dim: number;
  readonly vocabSize: number;
  readonly numLayers: number;
  /** Attention (query) heads per decoder layer, for connectors that gate per head. */
  readonly numHeads?: number;
  /**
   * True when `forward` reads `LmForwardOptions.prefixLengths` (a prefix LM, an encoder-decoder):
   * the caller then passes, per row, where the prompt ends (the first trained token; the whole
   * prompt when generating). Absent: the LLM ignores them (causal).
   */
  readonly needsPrefix?: boolean;
  /** Experts per feed-forward of an MoE LLM, whose `forward` returns `aux`; absent for a dense LLM. */
  readonly experts?: number;
  /** True when `forward` honours `LmForwardOptions.imageAttention`. */
  readonly boostsImageAttention?: boolean;
  /** Fusion plug points this LLM honours in `LmForwardOptions.fusion`; absent means none. */
  readonly fusionPoints?: readonly FusionPoint[];
  embed(ids: tf.Tensor2D): tf.Tensor3D;
  /**
   * embeds [B, T, D] -> { logits [B, T, V], hidden [B, T, D] } (hidden after the final norm).
   * `aux`: an MoE LLM's auxiliary loss and routing statistics for this forward, which training
   * adds to its loss (`aux.loss`, already weighted); absent for a dense LLM.
   */
  forward(embeds: tf.Tensor3D, options?: LmForwardOptions): { logits: tf.Tensor3D; hidden: tf.Tensor3D; aux?: MoeAux };
}

export interface EncoderContext {
  rng: Rng;
}
export interface ConnectorContext {
  rng: Rng;
  inputDim: number;
  outputDim: number;
  inputTokens: number;
  /** The encoder's token grid (its `tokenGrid`): a spatial connector reshapes [B, N, D] with it; absent when the encoder has none. */
  tokenGrid?: TokenGrid;
  /** Decoder layers of the LLM, for fusion connectors that insert blocks between them. */
  llmLayers?: number;
  /** Attention heads per decoder layer of the LLM, for fusion connectors with per-head gates. */
  llmHeads?: number;
  /** The built LLM, for fusion connectors whose weights start as copies of its own (CogVLM's visual expert). */
  llm?: LanguageModel;
  /** The run's tokenizer, for connectors that hand the LLM words (an expert bridge); absent when the model is built without one. */
  text?: ConnectorText;
}

/** What a connector that writes text needs of the tokenizer: word ids, the padding id, and which words it lacks. */
export interface ConnectorText {
  encode(text: string): number[];
  padId: number;
  /** Words of `text` the vocabulary lacks (they would read as <unk>); absent for a tokenizer that spells any word. */
  unknownWords?(text: string): string[];
}
export interface LlmContext {
  rng: Rng;
  vocabSize: number;
}

/** One registry per slot. Packages add their types through explicit `register*` calls. */
export interface ComponentRegistry {
  encoders: Registry<EncoderContext, VisionEncoder>;
  connectors: Registry<ConnectorContext, TokenConnector | FusionConnector>;
  llms: Registry<LlmContext, LanguageModel>;
}
