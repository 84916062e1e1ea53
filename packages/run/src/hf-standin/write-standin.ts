import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MllmError } from '@mllm/core';
import { STANDIN_MODELS, STANDIN_NAMES, type StandinModel } from './catalog';
import { writeSafetensorsWeights, type StandinDtype } from './safetensors-writer';
import { elementCount } from './tensor-plan';

export interface WriteStandinOptions {
  /** Seeds every weight; the same seed writes the same bytes (default 0). */
  seed?: number;
  /** Merged into the released config.json, nested objects key by key: a smaller model of the same family for tests (`{ num_hidden_layers: 2 }`). */
  overrides?: Record<string, unknown>;
  /** Weights dtype; default the released files' (BF16 for SmolLM2, F32 for CLIP and SigLIP). */
  dtype?: StandinDtype;
  /** Shard past this many bytes per file (default 5 GB, transformers' max_shard_size: the released files are single). */
  maxShardBytes?: number;
  /** Write into a folder that already has files (default: refuse). */
  force?: boolean;
}

export interface WrittenStandin {
  dir: string;
  model: StandinModel;
  /** Elements over all tensors written (text towers included). */
  parameters: number;
  /** Every file written, with its size. */
  files: { name: string; bytes: number }[];
}

export function findStandinModel(name: string): StandinModel {
  const model = STANDIN_MODELS.find((m) => m.name === name);
  if (!model) throw new MllmError(`no stand-in named "${name}"; one of: ${STANDIN_NAMES.join(', ')} (mllm hf-standin --list)`);
  return model;
}

/**
 * Writes an HF model folder shaped exactly like a released checkpoint (its config.json,
 * tokenizer / preprocessor files, safetensors names, shapes and dtype) with seeded random
 * weights, so the `from: "hf:DIR"` import, training and export run at the released size where
 * the weights cannot be downloaded. The numbers mean nothing: outputs of a stand-in are noise.
 */
export async function writeHfStandin(name: string, out: string, options: WriteStandinOptions = {}): Promise<WrittenStandin> {
  const model = findStandinModel(name);
  const dir = resolve(out);
  if (!options.force && (await hasFiles(dir))) throw new MllmError(`${dir} already has files; choose an empty folder or pass --force to write over them`);
  const config = deepMerge(model.config(), options.overrides ?? {});
  const tensors = model.tensors(config);
  await mkdir(dir, { recursive: true });
  const texts: Record<string, string> = {
    'config.json': json(config),
    ...Object.fromEntries(Object.entries(model.files(config)).map(([file, content]) => [file, json(content)])),
    'README.md': modelCard(model, options.seed ?? 0),
  };
  for (const [file, text] of Object.entries(texts)) await writeFile(join(dir, file), text);
  const weights = await writeSafetensorsWeights(dir, tensors, { dtype: options.dtype ?? model.dtype, seed: options.seed ?? 0, maxShardBytes: options.maxShardBytes ?? 5e9 });
  const files = await Promise.all([...Object.keys(texts), ...weights].map(async (file) => ({ name: file, bytes: (await stat(join(dir, file))).size })));
  return { dir, model, parameters: tensors.filter((t) => !t.integer).reduce((n, t) => n + elementCount(t.shape), 0), files };
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function modelCard(model: StandinModel, seed: number): string {
  return [
    `# Stand-in for ${model.repo} (random weights)`,
    '',
    `Written by \`mllm hf-standin ${model.name} --seed ${seed}\`: the released config.json, file layout, tensor names, shapes and dtype,`,
    'with seeded random weights. Use it to run the import, training and export at the released size; its outputs are noise.',
    `For the real model: huggingface-cli download ${model.repo} --local-dir <folder> (licence: ${model.licence}).`,
    ...(model.kind === 'llm' ? ['', 'tokenizer.json has the released vocabulary size and special-token ids, but its merges are GPT-2\'s: ids of ordinary text differ from the real tokenizer.'] : []),
    '',
  ].join('\n');
}

async function hasFiles(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0;
  } catch {
    return false;
  }
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
