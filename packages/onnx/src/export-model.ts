import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MllmError } from '@mllm/core';
import type { MultimodalModel } from '@mllm/model';
import type { WeightFormat } from './graph-builder';
import type { GraphBuilder } from './graph-builder';
import { decoderGraph, embedTokensGraph, visionEncoderGraph } from './graphs';
import { externalDataPath, writeGraphFile, type ExternalDataChoice } from './graph-file';
import { DECODER_OPS, type DecoderOps } from './exporter-types';
import type { GraphRole } from './graph-contract';
import { generationConfig, hfConfig, preprocessorConfig, processorConfig } from './hf-configs';
import { MANIFEST_FILE, MANIFEST_FORMAT, MANIFEST_VERSION, type OnnxManifest } from './manifest';
import { checkExportable } from './supported';
import { createOnnxExporters, type OnnxExporters } from './exporter-registry';
import { registerOnnxExporters } from './register-exporters';

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
  /**
   * The exporters, by the registry type of each part (`registry.onnx` of @mllm/run, which holds
   * plugins' exporters too). Default: the built-in types'.
   */
  exporters?: OnnxExporters;
  /**
   * Weights in ONNX external data files (`onnx/<graph>.onnx_data`), as Optimum writes models past
   * protobuf's 2 GiB: 'auto' (default) for a graph of more than 1 GiB of weights (past 2 GiB one
   * protobuf cannot hold them; from 1 GiB encoding one doubles the export's memory), true for
   * every graph, false never (a graph past 2 GiB is then refused).
   */
  externalData?: ExternalDataChoice;
  /**
   * 'contrib' (default): a Llama-style decoder without a fusion connector, its head width a
   * multiple of 16, is written on onnxruntime's fused com.microsoft ops (GroupQueryAttention,
   * RotaryEmbedding, SkipSimplifiedLayerNormalization), 14 nodes a layer instead of ~43; its
   * attention reads each row's cache as a prefix (mllm.json `llm.cache`). Other decoders get
   * standard ops.
   * 'standard': ONNX's standard ops only, for a runtime without onnxruntime's contrib ops.
   */
  decoderOps?: DecoderOps;
}

/** The built-in types' exporters, in a fresh registry. */
function builtInExporters(): OnnxExporters {
  const exporters = createOnnxExporters();
  registerOnnxExporters(exporters);
  return exporters;
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
  const plan = checkExportable(model, options.exporters ?? builtInExporters());
  await checkReplaceable(dir);
  const weights = options.weights ?? 'fp32';
  const maxPositions = options.maxPositions ?? 2048;
  if (!Number.isInteger(maxPositions) || maxPositions < 1) throw new MllmError(`exportModel: maxPositions must be a positive integer, got ${maxPositions}`);
  const decoderOps = options.decoderOps ?? 'contrib';
  if (!DECODER_OPS.includes(decoderOps)) throw new MllmError(`exportModel: decoderOps must be one of ${DECODER_OPS.join(', ')}, got ${JSON.stringify(decoderOps)}`);
  const { encoder, connector, llm } = plan;
  connector.exporter.prepare?.(connector.component, connector.ctx);
  const files = {
    visionEncoder: ONNX_FILES.visionEncoder.replace('.onnx', `${SUFFIX[weights]}.onnx`),
    embedTokens: ONNX_FILES.embedTokens.replace('.onnx', `${SUFFIX[weights]}.onnx`),
    decoder: ONNX_FILES.decoder.replace('.onnx', `${SUFFIX[weights]}.onnx`),
  };
  const special = options.tokenizer?.special;
  const record = <C, X extends { config: Record<string, unknown> }>(part: { component: C; ctx: X; exporter: { record?(c: C, ctx: X): Record<string, unknown> } }) =>
    part.exporter.record ? part.exporter.record(part.component, part.ctx) : { ...part.ctx.config };
  const fusion = connector.exporter.fusion?.(connector.component, connector.ctx);
  const manifest: OnnxManifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    weights,
    files,
    image: { ...encoder.exporter.image(encoder.component), tokensPerImage: model.tokensPerImage },
    llm: { ...llm.exporter.shape(llm.component), maxPositions },
    special: { imageTokenId: model.special.imageTokenId, padId: model.special.padId, ...(special && { bos: special.bos, eos: special.eos, end: special.end }) },
    components: { encoder: record(encoder), connector: record(connector), llm: record(llm) },
    ...(fusion && { fusion }),
    ...(options.runConfig !== undefined && { runConfig: options.runConfig }),
  };
  const vision = encoder.exporter.hf(encoder.component);
  const json = (x: unknown) => JSON.stringify(x, null, 2) + '\n';
  // built and written one at a time, so only one graph's weights are held besides the model's
  const graphs: [GraphRole, () => GraphBuilder][] = [
    ['visionEncoder', () => visionEncoderGraph(plan, weights)],
    ['embedTokens', () => embedTokensGraph(plan, weights)],
    [
      'decoder',
      () => {
        const { graph, cache } = decoderGraph(plan, weights, maxPositions, decoderOps);
        if (cache === 'prefix') manifest.llm.cache = 'prefix';
        return graph;
      },
    ],
  ];
  const staging = `${dir.replace(/\/+$/, '')}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  try {
    const externalData: Partial<Record<GraphRole, string>> = {};
    for (const [role, build] of graphs) {
      await mkdir(dirname(join(staging, files[role])), { recursive: true });
      if (await writeGraphFile(build(), join(staging, files[role]), options.externalData ?? 'auto')) externalData[role] = externalDataPath(files[role]);
    }
    if (Object.keys(externalData).length > 0) manifest.externalData = externalData;
    const outputs: Record<string, string> = {
      'config.json': json(hfConfig(vision, llm.exporter.hf(llm.component, manifest), manifest)),
      'generation_config.json': json(generationConfig(manifest, options.maxNewTokens ?? 64)),
      'preprocessor_config.json': json(preprocessorConfig(manifest)),
      'processor_config.json': json(processorConfig(vision, manifest.image.tokensPerImage)),
      [MANIFEST_FILE]: json(manifest),
    };
    for (const [name, data] of Object.entries(outputs)) await writeFile(join(staging, name), data);
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
