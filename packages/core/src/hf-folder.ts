import type * as tf from '@tensorflow/tfjs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CheckpointError, MllmError } from './errors';
import { loadSafetensors, readSafetensorsHeader, saveSafetensors, writeFileAtomic, type EncodeOptions, type ValidEntry } from './safetensors';

/** A HuggingFace model folder as published: config.json plus its safetensors weights. */
export interface HfFolder {
  config: Record<string, unknown>;
  /** Every tensor by its HF name, float32 (F16/BF16 widened) or int32. */
  tensors: Record<string, tf.Tensor>;
  /** The weight files read, absolute paths, in the order read. */
  files: string[];
}

const HF_PREFIX = 'hf:';

/** `"hf:path/to/folder"` -> `"path/to/folder"`; anything else is a mistake worth naming. */
export function parseHfSpec(from: string): string {
  if (typeof from !== 'string' || !from.startsWith(HF_PREFIX) || from.length === HF_PREFIX.length)
    throw new MllmError(`"from": ${JSON.stringify(from)} is not a HuggingFace source; write "hf:path/to/folder" (a folder with config.json and model.safetensors)`);
  return from.slice(HF_PREFIX.length);
}

/**
 * Reads `config.json` and the weights: `model.safetensors`, or the shards that
 * `model.safetensors.index.json` names in its `weight_map` (transformers' sharded layout).
 */
export async function loadHfFolder(dir: string): Promise<HfFolder> {
  const root = resolve(dir);
  if (!(await isDirectory(root))) throw new CheckpointError(root, 'is not a folder; pass a HuggingFace model folder (config.json + model.safetensors)');
  const config = await readJson(join(root, 'config.json'), 'config.json is missing; a HuggingFace model folder has config.json next to its weights');
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw new CheckpointError(join(root, 'config.json'), 'must hold a JSON object');

  const indexPath = join(root, 'model.safetensors.index.json');
  if (await exists(indexPath)) return { config: config as Record<string, unknown>, ...(await loadShards(root, indexPath)) };

  const single = await singleWeightFile(root);
  const { tensors } = await loadSafetensors(single);
  return { config: config as Record<string, unknown>, tensors, files: [single] };
}

/**
 * The tensors an HF folder's weight files declare (names, dtypes, shapes), read from the
 * safetensors headers alone: no weight is read or allocated, so a config.json can be compared
 * with the weights before a model of its shape is built. Each header is checked as on load.
 */
export async function readHfFolderHeaders(dir: string): Promise<{ entries: (ValidEntry & { file: string })[]; files: string[] }> {
  const root = resolve(dir);
  const indexPath = join(root, 'model.safetensors.index.json');
  const files = (await exists(indexPath)) ? [...(await shardNames(indexPath)).keys()].map((shard) => join(root, shard)) : [await singleWeightFile(root)];
  const entries: (ValidEntry & { file: string })[] = [];
  for (const file of files) for (const entry of (await readSafetensorsHeader(file)).entries) entries.push({ ...entry, file });
  return { entries, files };
}

export interface SaveHfFolderOptions extends EncodeOptions {
  /** Split the weights over this many files with a model.safetensors.index.json, as transformers does past its shard size. */
  shards?: number;
}

/** Writes config.json and the weights in the HF layout (single file, or shards + index) that loadHfFolder and transformers read. */
export async function saveHfFolder(dir: string, config: Record<string, unknown>, tensors: Record<string, tf.Tensor>, options: SaveHfFolderOptions = {}): Promise<string[]> {
  const root = resolve(dir);
  const shards = Math.max(1, Math.floor(options.shards ?? 1));
  const metadata = { format: 'pt' }; // transformers refuses to load safetensors without it
  await writeFileAtomic(join(root, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const names = Object.keys(tensors).sort();
  if (shards === 1) {
    const path = join(root, 'model.safetensors');
    await saveSafetensors(path, tensors, metadata, options);
    return [path];
  }
  const width = 5; // transformers names shards model-00001-of-00003.safetensors
  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(width, '0')}-of-${String(shards).padStart(width, '0')}.safetensors`;
    const part = Object.fromEntries(names.filter((_, i) => i % shards === s).map((n) => [n, tensors[n]!]));
    for (const [n, t] of Object.entries(part)) {
      weightMap[n] = file;
      totalSize += t.size * (t.dtype === 'int32' || (options.floatDtype ?? 'F32') === 'F32' ? 4 : 2);
    }
    await saveSafetensors(join(root, file), part, metadata, options);
    files.push(join(root, file));
  }
  await writeFileAtomic(join(root, 'model.safetensors.index.json'), `${JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2)}\n`);
  return files;
}

/** `model.safetensors` of an unsharded folder; its absence says what the folder holds instead. */
async function singleWeightFile(root: string): Promise<string> {
  const single = join(root, 'model.safetensors');
  if (await exists(single)) return single;
  const hasBin = (await exists(join(root, 'pytorch_model.bin'))) || (await exists(join(root, 'pytorch_model.bin.index.json')));
  throw new CheckpointError(
    root,
    hasBin
      ? 'holds only PyTorch .bin weights; convert them to safetensors (transformers: model.save_pretrained(dir, safe_serialization=True))'
      : 'has neither model.safetensors nor model.safetensors.index.json',
  );
}

/** The index's shards, each with the tensor names it holds; a shard path leaving the folder is refused. */
async function shardNames(indexPath: string): Promise<Map<string, string[]>> {
  const index = await readJson(indexPath, 'cannot be read');
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (!weightMap || typeof weightMap !== 'object' || Array.isArray(weightMap))
    throw new CheckpointError(indexPath, 'has no "weight_map" object (tensor name -> shard file)');
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    // A shard path escaping the folder would read arbitrary files; published indexes never do that.
    if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\') || shard === '..')
      throw new CheckpointError(indexPath, `weight_map["${name}"] must be a file name in the same folder, got ${JSON.stringify(shard)}`);
    byShard.set(shard, [...(byShard.get(shard) ?? []), name]);
  }
  return byShard;
}

async function loadShards(root: string, indexPath: string): Promise<{ tensors: Record<string, tf.Tensor>; files: string[] }> {
  const byShard = await shardNames(indexPath);
  const tensors: Record<string, tf.Tensor> = {};
  const files: string[] = [];
  for (const [shard, names] of byShard) {
    const path = join(root, shard);
    if (!(await exists(path))) throw new CheckpointError(path, `shard listed in model.safetensors.index.json (for ${names[0]}${names.length > 1 ? ` and ${names.length - 1} more` : ''}) is missing`);
    const loaded = (await loadSafetensors(path)).tensors;
    const absent = names.filter((n) => !(n in loaded));
    if (absent.length) {
      for (const t of Object.values(loaded)) t.dispose();
      for (const t of Object.values(tensors)) t.dispose();
      throw new CheckpointError(path, `lacks ${absent.length} tensor(s) that model.safetensors.index.json places there: ${absent.slice(0, 5).join(', ')}${absent.length > 5 ? ', ...' : ''}`);
    }
    Object.assign(tensors, loaded);
    files.push(path);
  }
  return { tensors, files };
}

async function readJson(path: string, missingReason: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(path, code === 'ENOENT' ? missingReason : `cannot be read (${code})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(path, `is not valid JSON (${(e as Error).message})`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
