import { open, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '@mllm/core';
import { elementCount, type PlannedTensor } from './tensor-plan';

/** How float tensors are stored: the dtype the released checkpoint's files hold. */
export type StandinDtype = 'BF16' | 'F32';

export interface WriteWeightsOptions {
  dtype: StandinDtype;
  seed: number;
  /** Start a new shard before a file would pass this many bytes (transformers' max_shard_size); a larger single tensor gets a shard of its own. */
  maxShardBytes: number;
}

const bytesPer = (t: PlannedTensor, dtype: StandinDtype) => (t.integer ? 8 : dtype === 'BF16' ? 2 : 4);

/**
 * Groups tensors into shards in order, as transformers' shard_checkpoint does: a shard closes
 * when the next tensor would take it past maxShardBytes.
 */
export function planShards(tensors: PlannedTensor[], dtype: StandinDtype, maxShardBytes: number): PlannedTensor[][] {
  const shards: PlannedTensor[][] = [[]];
  let size = 0;
  for (const t of tensors) {
    const bytes = elementCount(t.shape) * bytesPer(t, dtype);
    if (size > 0 && size + bytes > maxShardBytes) {
      shards.push([]);
      size = 0;
    }
    shards.at(-1)!.push(t);
    size += bytes;
  }
  return shards;
}

/**
 * Writes the planned tensors with seeded values: `model.safetensors`, or shards named
 * `model-00001-of-0000N.safetensors` plus `model.safetensors.index.json` (transformers'
 * layout). Each tensor draws from its own stream (the seed forked by its name), so its values do
 * not depend on which shard it lands in or which tensors precede it. One tensor is in memory
 * at a time: a 360M-parameter checkpoint is written in a few hundred MB.
 * Returns the file names written, relative to dir.
 */
export async function writeSafetensorsWeights(dir: string, tensors: PlannedTensor[], options: WriteWeightsOptions): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const shards = planShards(tensors, options.dtype, options.maxShardBytes);
  const rng = new Rng(options.seed);
  if (shards.length === 1) {
    await writeShard(join(dir, 'model.safetensors'), shards[0]!, options.dtype, rng);
    return ['model.safetensors'];
  }
  const names = shards.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`);
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  for (const [i, shard] of shards.entries()) {
    await writeShard(join(dir, names[i]!), shard, options.dtype, rng);
    for (const t of shard) {
      weightMap[t.name] = names[i]!;
      totalSize += elementCount(t.shape) * bytesPer(t, options.dtype);
    }
  }
  const sortedMap = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  await writeFile(join(dir, 'model.safetensors.index.json'), `${JSON.stringify({ metadata: { total_size: totalSize }, weight_map: sortedMap }, null, 2)}\n`);
  return [...names, 'model.safetensors.index.json'];
}

/** One safetensors file: 8-byte header length, JSON header (space-padded to 8 bytes), raw little-endian data. */
async function writeShard(path: string, tensors: PlannedTensor[], dtype: StandinDtype, rng: Rng): Promise<void> {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } }; // transformers refuses safetensors without it
  let offset = 0;
  for (const t of tensors) {
    const bytes = elementCount(t.shape) * bytesPer(t, dtype);
    header[t.name] = { dtype: t.integer ? 'I64' : dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const partial = `${path}.partial`;
  const file = await open(partial, 'w');
  try {
    await file.write(head);
    await file.write(Buffer.from(json));
    for (const t of tensors) await file.write(tensorBytes(t, dtype, rng.fork(t.name)));
  } finally {
    await file.close();
  }
  await rename(partial, path); // a folder never holds a half-written shard under its real name
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> bfloat16 bits, rounded to nearest even (as torch's .to(torch.bfloat16)). */
export function toBf16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

function tensorBytes(t: PlannedTensor, dtype: StandinDtype, rng: Rng): Buffer {
  const n = elementCount(t.shape);
  if (t.integer) {
    const data = new BigInt64Array(n);
    for (let i = 0; i < n; i++) data[i] = BigInt(i % t.shape.at(-1)!); // position_ids: 0..len-1 per row
    return Buffer.from(data.buffer);
  }
  const draw = t.init.kind === 'normal' ? (std => () => std * rng.normal())(t.init.std) : (value => () => value)(t.init.kind === 'const' ? t.init.value : 0);
  if (dtype === 'F32') {
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = draw();
    return Buffer.from(data.buffer);
  }
  const data = new Uint16Array(n);
  for (let i = 0; i < n; i++) data[i] = toBf16Bits(draw());
  return Buffer.from(data.buffer);
}
