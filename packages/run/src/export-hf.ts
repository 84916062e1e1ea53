import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { MllmError, saveHfFolder, type Logger } from '@mllm/core';
import type { MultimodalModel } from '@mllm/model';
import { HF_DTYPES, hfGenerationConfig, hfLlavaConfig, hfPreprocessorConfig, hfProcessorConfig, type HfDtype } from './export-hf-config';
import { hfLlavaParts } from './export-hf-parts';
import { hfProcessorChatTemplate, hfTokenizerFiles } from './export-hf-tokenizer';
import { openRun } from './open-run';

export interface HfExportOptions {
  checkpoint: string;
  out: string;
  /** Weight dtype: float32 (default, exact), bfloat16 or float16 (as the hub stores most checkpoints). */
  dtype?: string;
  /** text_config.max_position_embeddings. Default 2048. */
  maxPositions?: number;
  logger: Logger;
}

export interface HfExportResult {
  format: 'hf';
  dtype: HfDtype;
  /** The files written, relative to `out`. */
  files: string[];
}

// transformers shards past its max_shard_size; 2 GB keeps every file well inside a Node Buffer
const SHARD_BYTES = 2 * 1024 ** 3;

/**
 * The model's tensors under LlavaForConditionalGeneration's names in the layout every
 * transformers version loads: `vision_tower.vision_model.*`, `multi_modal_projector.*`,
 * `language_model.model.*`, `language_model.lm_head.*` (transformers >= 4.52 renames these to
 * `model.vision_tower.*`, ..., `lm_head.*` on load through _checkpoint_conversion_mapping;
 * earlier versions read only this layout). Our parameter names are already HF's under each
 * slot; only the vision tower's sit one level up (CLIPVisionModel wraps them in `vision_model`).
 */
export function hfLlavaTensors(model: MultimodalModel): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(model.stateDict())) out[name.replace(/^vision_tower\./, 'vision_tower.vision_model.')] = t;
  return out;
}

function parseDtype(dtype: string | undefined): HfDtype {
  const value = dtype ?? 'float32';
  if (!(value in HF_DTYPES)) throw new MllmError(`--dtype must be one of ${Object.keys(HF_DTYPES).join(', ')} for --format hf, got ${JSON.stringify(dtype)}`);
  return value as HfDtype;
}

/**
 * `mllm export --format hf`: a finished run as a folder transformers'
 * LlavaForConditionalGeneration.from_pretrained and LlavaProcessor.from_pretrained load:
 * safetensors weights, config.json, generation_config.json, preprocessor_config.json,
 * processor_config.json and the tokenizer with its chat template. Runs whose parts have no
 * LLaVA module are refused before anything is written. Written to a sibling folder first, so a
 * failed export leaves `out` as it was.
 */
export async function exportHfCheckpoint(options: HfExportOptions): Promise<HfExportResult> {
  const dtype = parseDtype(options.dtype);
  const maxPositions = options.maxPositions ?? 2048;
  const session = await openRun(options.checkpoint);
  try {
    const model = session.model;
    const parts = hfLlavaParts(model, { encoder: session.config.encoder, connector: session.config.connector, llm: session.config.llm });
    await refuseForeignFolder(options.out);
    const special = session.tokenizer.special;
    const tensors = hfLlavaTensors(model);
    const bytes = Object.values(tensors).reduce((sum, t) => sum + t.size * (dtype === 'float32' ? 4 : 2), 0);
    const json = (x: unknown) => `${JSON.stringify(x, null, 2)}\n`;
    const config = hfLlavaConfig(parts, { special, imageSeqLength: model.tokensPerImage, dtype, maxPositions });
    const staging = `${options.out.replace(/\/+$/, '')}.partial-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    try {
      const weights = await saveHfFolder(staging, config, tensors, { floatDtype: HF_DTYPES[dtype], shards: Math.max(1, Math.ceil(bytes / SHARD_BYTES)) });
      const others: Record<string, string> = {
        'generation_config.json': json(hfGenerationConfig(special, session.config.eval.maxNewTokens)),
        'preprocessor_config.json': json(hfPreprocessorConfig(parts)),
        'processor_config.json': json(hfProcessorConfig(parts)),
        ...hfTokenizerFiles(session.tokenizer),
        ...hfProcessorChatTemplate(session.tokenizer),
      };
      for (const [name, text] of Object.entries(others)) await writeFile(join(staging, name), text);
      await rm(options.out, { recursive: true, force: true });
      await mkdir(dirname(options.out), { recursive: true });
      await rename(staging, options.out);
      const files = ['config.json', ...weights.map((w) => w.slice(staging.length + 1)), ...(weights.length > 1 ? ['model.safetensors.index.json'] : []), ...Object.keys(others)];
      options.logger.info(`exported ${options.checkpoint} to ${options.out} as HF LlavaForConditionalGeneration (${dtype}): ${files.join(', ')}`);
      return { format: 'hf', dtype, files };
    } catch (e) {
      await rm(staging, { recursive: true, force: true });
      throw e;
    }
  } finally {
    session.model.dispose();
  }
}

/** --out may be new, empty, or an earlier LLaVA export (config.json model_type "llava"); anything else is left alone. */
async function refuseForeignFolder(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const entries = await readdir(dir);
  if (entries.length === 0) return;
  let modelType: unknown;
  try {
    modelType = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model_type?: unknown }).model_type;
  } catch {
    modelType = undefined;
  }
  if (modelType !== 'llava')
    throw new MllmError(`mllm export: ${dir} exists and is not an earlier export (no config.json with model_type "llava"; it holds ${entries.slice(0, 3).join(', ')}); pick a new or empty --out folder`);
}
