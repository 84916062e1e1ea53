import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MllmError } from '@mllm/core';
import type { MultimodalModel } from '@mllm/model';
import type { VisionTransformer } from '@mllm/encoders';
import type { WeightFormat } from './graph-builder';
import { decoderGraph, embedTokensGraph, visionEncoderGraph } from './graphs';
import { generationConfig, hfConfig, preprocessorConfig, processorConfig } from './hf-configs';
import { MANIFEST_FILE, MANIFEST_FORMAT, MANIFEST_VERSION, type OnnxManifest } from './manifest';
import { checkExportable, type ExportableConnector } from './supported';
import { LinearProjector, MlpProjector } from '@mllm/connector-projection';
import { AdapterPrompts, GatedCrossAttention, VisualExpert } from '@mllm/connector-fusion';

/** The tokenizer the folder ships with (WordTokenizer fits). */
export interface ExportTokenizer {
  save(dir: string): Promise<void>;
  readonly special: { bos: number; eos: number; end: number };
}

export interface ExportOptions {
  /** Weight storage: fp32 (default, exact), fp16 or int8 (weight-only, per-channel scales). */
  weights?: WeightFormat;
  tokenizer?: ExportTokenizer;
  /** RoPE table rows, i.e. the longest sequence the decoder takes. Default 2048. */
  maxPositions?: number;
  /** generation_config.json max_new_tokens. Default 64. */
  maxNewTokens?: number;
  /** The training run's config, kept in mllm.json so `mllm eval --runtime onnx` rebuilds the test set. */
  runConfig?: unknown;
}

export const ONNX_FILES = {
  visionEncoder: 'onnx/vision_encoder.onnx',
  embedTokens: 'onnx/embed_tokens.onnx',
  decoder: 'onnx/decoder_model_merged.onnx',
} as const;

/** transformers.js picks files by dtype suffix: '' fp32, _fp16, _quantized (q8). */
const SUFFIX: Record<WeightFormat, string> = { fp32: '', fp16: '_fp16', int8: '_quantized' };

/**
 * Writes `model` as the HF Optimum split layout transformers.js loads (onnx/vision_encoder,
 * embed_tokens, decoder_model_merged; config.json as `llava`, generation, preprocessor and
 * processor configs, tokenizer files) plus mllm.json. Everything is written to a sibling
 * temporary folder first, so a failed export leaves `dir` as it was.
 */
export async function exportModel(model: MultimodalModel, dir: string, options: ExportOptions = {}): Promise<OnnxManifest> {
  const parts = checkExportable(model);
  await checkReplaceable(dir);
  const weights = options.weights ?? 'fp32';
  const maxPositions = options.maxPositions ?? 2048;
  if (!Number.isInteger(maxPositions) || maxPositions < 1) throw new MllmError(`exportModel: maxPositions must be a positive integer, got ${maxPositions}`);
  const { encoder, connector, llm } = parts;
  if (connector instanceof VisualExpert) settleExperts(connector, encoder);
  const files = {
    visionEncoder: ONNX_FILES.visionEncoder.replace('.onnx', `${SUFFIX[weights]}.onnx`),
    embedTokens: ONNX_FILES.embedTokens.replace('.onnx', `${SUFFIX[weights]}.onnx`),
    decoder: ONNX_FILES.decoder.replace('.onnx', `${SUFFIX[weights]}.onnx`),
  };
  const special = options.tokenizer?.special;
  const manifest: OnnxManifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    weights,
    files,
    image: { size: encoder.imageSize, channels: encoder.config.channels, ...pixelNormalization(encoder), tokensPerImage: model.tokensPerImage },
    llm: { layers: llm.numLayers, kvHeads: llm.blocks[0]!.attn.numKvHeads, headDim: llm.blocks[0]!.attn.headDim, dim: llm.dim, vocabSize: llm.vocabSize, maxPositions },
    special: { imageTokenId: model.special.imageTokenId, padId: model.special.padId, ...(special && { bos: special.bos, eos: special.eos, end: special.end }) },
    components: {
      encoder: { ...encoder.config },
      connector: connectorRecord(connector),
      llm: { ...llm.config },
    },
    ...(connector instanceof AdapterPrompts && { fusion: { type: 'adapter-prompts' as const } }),
    ...(connector instanceof VisualExpert && { fusion: { type: 'visual-expert' as const } }),
    ...(connector instanceof GatedCrossAttention && { fusion: { type: 'gated-cross-attention' as const, mediaTokens: encoder.numTokens } }),
    ...(options.runConfig !== undefined && { runConfig: options.runConfig }),
  };
  const json = (x: unknown) => JSON.stringify(x, null, 2) + '\n';
  const outputs: Record<string, Uint8Array | string> = {
    [files.visionEncoder]: visionEncoderGraph(encoder, connector, weights),
    [files.embedTokens]: embedTokensGraph(llm, weights),
    [files.decoder]: decoderGraph(llm, weights, maxPositions, connector.kind === 'fusion-connector' ? connector : undefined),
    'config.json': json(hfConfig(parts, manifest)),
    'generation_config.json': json(generationConfig(manifest, options.maxNewTokens ?? 64)),
    'preprocessor_config.json': json(preprocessorConfig(manifest)),
    'processor_config.json': json(processorConfig(parts, manifest.image.tokensPerImage)),
    [MANIFEST_FILE]: json(manifest),
  };
  const staging = `${dir.replace(/\/+$/, '')}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  try {
    for (const [name, data] of Object.entries(outputs)) {
      await mkdir(dirname(join(staging, name)), { recursive: true });
      await writeFile(join(staging, name), data);
    }
    if (options.tokenizer) await options.tokenizer.save(staging);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dirname(dir), { recursive: true });
    await rename(staging, dir);
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
  return manifest;
}

/** An existing folder is replaced only when it is empty or an earlier export (it has mllm.json). */
async function checkReplaceable(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const entries = await readdir(dir);
  if (entries.length > 0 && !entries.includes(MANIFEST_FILE))
    throw new MllmError(`exportModel: ${dir} exists and is not an ONNX export (no ${MANIFEST_FILE}; it holds ${entries.slice(0, 3).join(', ')}); pick a new or empty --out folder`);
}

/** The encoder's (x - mean) / std; encoders without the fields map [0, 1] to [-1, 1]. */
function pixelNormalization(encoder: VisionTransformer): { mean: number[]; std: number[] } {
  const config = encoder.config as { pixelMean?: number[]; pixelStd?: number[]; channels: number };
  const half = new Array<number>(config.channels).fill(0.5);
  return { mean: [...(config.pixelMean ?? half)], std: [...(config.pixelStd ?? half)] };
}

function connectorRecord(connector: ExportableConnector | AdapterPrompts | VisualExpert | GatedCrossAttention): Record<string, unknown> {
  if (connector instanceof VisualExpert) return { type: 'visual-expert', projection: connectorRecord(connector.projection as ExportableConnector) };
  if (connector instanceof LinearProjector) return { type: 'linear' };
  if (connector instanceof MlpProjector) return { type: 'mlp', depth: connector.layers.length, ...(connector.inputNorm && { inputNorm: true }) };
  return { ...connector.config };
}

/**
 * A visual expert still as built re-copies the LLM's text weights at its first bind with images
 * (CogVLM starts the experts from the trained LLM); bind once here so the export holds the
 * weights the tfjs model would run with.
 */
function settleExperts(expert: VisualExpert, encoder: VisionTransformer): void {
  const features = tf.zeros([1, encoder.numTokens, encoder.outputDim]) as tf.Tensor3D;
  try {
    expert.bind(features, [{ row: 0, start: 0 }], 1).dispose();
  } finally {
    features.dispose();
  }
}
