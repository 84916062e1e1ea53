import type { FusionConnector, LanguageModel, TokenConnector, TokenGrid, VisionEncoder } from '@mllm/core';
import type { ComponentConfig } from '@mllm/model';
import type { GraphBuilder } from './graph-builder';
import type { GraphRouting } from './layers';
import type { OnnxManifest } from './manifest';
import type { OnnxExporters } from './exporter-registry';

/**
 * What an ONNX exporter writes for one component type, per slot. The export assembles three
 * graphs from them (HF Optimum's split layout):
 * - vision_encoder.onnx: pixel_values -> the encoder's `features` -> the connector's `imageFeatures`;
 * - embed_tokens.onnx and decoder_model_merged.onnx: the LLM's `embedTokens` and `decoder`, into
 *   which a fusion connector adds its `decoder` nodes.
 * Exporters are registered by the component's registry `type` (`registry.onnx.connectors.register`),
 * so the component handed to an exporter is what that type's factory built. Graph values are
 * names (strings) of a GraphBuilder; shapes: B batch, N encoder tokens, M visual tokens, D width.
 */

/** Where a part sits, for every method of its exporter. */
export interface PartExportContext {
  /** The part's JSON path in the run config, for messages (`encoder`, `connector.projection`). */
  path: string;
  /** The part's validated config: its registry `type` and options. */
  config: ComponentConfig;
  /** Every registered exporter, for a part made of other parts (a visual expert's projection). */
  exporters: OnnxExporters;
}

/** The pixel input of vision_encoder.onnx: a square canvas, x in [0, 1] normalised (x - mean) / std per channel, NCHW. */
export interface ExportImage {
  size: number;
  channels: number;
  mean: number[];
  std: number[];
}

/** The vision side of the `llava` config.json and processor config transformers.js reads. */
export interface HfVisionFields {
  /** `vision_config` (a clip_vision_model config). */
  visionConfig: Record<string, unknown>;
  /** `vision_feature_layer`, counted as HF counts hidden_states. */
  featureLayer: number;
  /** `full` keeps the CLS token, `default` drops it. */
  selectStrategy: 'full' | 'default';
  patchSize: number;
  /** Patch tokens of one image ((size / patch)^2). */
  patches: number;
}

export interface EncoderExporter<E extends VisionEncoder = VisionEncoder> {
  /** Throws UnsupportedExportError for options this exporter does not write; runs before anything is written. */
  check?(encoder: E, ctx: PartExportContext): void;
  image(encoder: E): ExportImage;
  /** pixel_values [B, C, H, W] (already normalised) -> features [B, N, D_enc], as `encoder.encode` computes them. */
  features(g: GraphBuilder, encoder: E, pixels: string, ctx: PartExportContext): string;
  hf(encoder: E): HfVisionFields;
  /** mllm.json `components.encoder`; default: the part's config. */
  record?(encoder: E, ctx: PartExportContext): Record<string, unknown>;
}

/** A connector's exporter is told what it reads and what it feeds, as ConnectorContext tells its factory. */
export interface ConnectorExportContext extends PartExportContext {
  /** Initializer name prefix of the connector's weights (`multi_modal_projector`). */
  name: string;
  /** Encoder tokens N per image, their width D_enc, and their grid when the encoder has one. */
  inputTokens: number;
  inputDim: number;
  tokenGrid?: TokenGrid;
  /** The LLM's width D_llm, decoder layers and attention heads. */
  outputDim: number;
  llmLayers: number;
  llmHeads?: number;
}

/** What a fusion connector adds to the decoder graph, layer by layer: core's LayerFusion as graph nodes. */
export interface DecoderFusionNodes {
  /** Before decoder layer `layer`: hidden [B, T, D] -> new hidden (Flamingo's gated cross-attention). */
  beforeLayer?(layer: number, hidden: string): string;
  /** Gated key/value prefix of layer `layer`'s self-attention (LLaMA-Adapter): states [B, P, D], gate [H]. */
  kvPrefix?(layer: number): { states: string; gate: string } | undefined;
  /** Per-position expert weights of layer `layer` (CogVLM's visual expert). */
  routing?(layer: number): GraphRouting | undefined;
}

export interface ConnectorExporter<C extends TokenConnector | FusionConnector = TokenConnector | FusionConnector> {
  check?(connector: C, ctx: ConnectorExportContext): void;
  /** Settles weights the tfjs model would only fix at its first forward (a visual expert's copies of the LLM). */
  prepare?(connector: C, ctx: ConnectorExportContext): void;
  /**
   * features [B, N, D_enc] -> image_features [B, M, D_llm], the output of vision_encoder.onnx: a
   * token connector's forward; a fusion connector's projected visual context. `tokens` is M.
   */
  imageFeatures(g: GraphBuilder, connector: C, features: string, ctx: ConnectorExportContext): { features: string; tokens: number };
  /** Fusion connectors: adds this connector's decoder inputs (after the LLM's own) and returns its per-layer nodes. */
  decoder?(g: GraphBuilder, connector: C, ctx: ConnectorExportContext): DecoderFusionNodes;
  /** With `decoder`: which of the runtime's fusion inputs the decoder takes (mllm.json `fusion`). */
  fusion?(connector: C, ctx: ConnectorExportContext): NonNullable<OnnxManifest['fusion']>;
  /** mllm.json `components.connector`; default: the part's config. */
  record?(connector: C, ctx: ConnectorExportContext): Record<string, unknown>;
}

/** The KV-cache layout of the decoder (mllm.json `llm`, less maxPositions). */
export interface ExportLlmShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  dim: number;
  vocabSize: number;
}

export interface DecoderExportContext extends PartExportContext {
  /** RoPE table rows: the longest sequence the decoder takes. */
  maxPositions: number;
  /**
   * 'contrib': attention and norms on onnxruntime's fused com.microsoft ops where the model allows
   * (the exporter says so by returning 'prefix' from decoder()); 'standard': ONNX's standard ops only.
   */
  ops: DecoderOps;
  /** Adds the fusion connector's decoder inputs and returns its per-layer nodes ({} without one); call it once, after the LLM's own inputs. */
  fusion(): DecoderFusionNodes;
}

/** Which ops the decoder graph can be written with (ExportOptions.decoderOps). */
export const DECODER_OPS = ['contrib', 'standard'] as const;
export type DecoderOps = (typeof DECODER_OPS)[number];

/**
 * How the decoder's attention reads the cache it is fed: 'appended', every row's cache of one
 * length with the attention_mask marking its padding; 'prefix', each row's keys a prefix of its
 * cache, as many as the row's attention_mask sum (GroupQueryAttention).
 */
export type KvCacheLayout = 'appended' | 'prefix';

export interface LlmExporter<L extends LanguageModel = LanguageModel> {
  check?(llm: L, ctx: PartExportContext): void;
  shape(llm: L): ExportLlmShape;
  /** input_ids [B, T] int64 -> output `inputs_embeds` [B, T, D]. */
  embedTokens(g: GraphBuilder, llm: L, ctx: PartExportContext): void;
  /**
   * The merged decoder (prefill and KV-cached decode in one graph): inputs_embeds, attention_mask,
   * position_ids, past_key_values.i.key/value -> logits, present.i.key/value. Returns 'prefix'
   * when the graph reads each row's cache as a prefix (GroupQueryAttention), so a runtime that
   * keeps the cache writes each call's keys behind each row's own length; nothing (or
   * 'appended') for the standard, mask-driven graph.
   */
  decoder(g: GraphBuilder, llm: L, ctx: DecoderExportContext): KvCacheLayout | void;
  /** `text_config` of the `llava` config.json. */
  hf(llm: L, manifest: OnnxManifest): Record<string, unknown>;
  /** mllm.json `components.llm`; default: the part's config. */
  record?(llm: L, ctx: PartExportContext): Record<string, unknown>;
}
