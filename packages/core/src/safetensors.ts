import * as tf from '@tensorflow/tfjs';
import { readFile, writeFile, rename, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CheckpointError } from './errors';

const DTYPES = {
  F32: { bytes: 4, read: (b: Buffer, n: number) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + n * 4)) },
  I32: { bytes: 4, read: (b: Buffer, n: number) => new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + n * 4)) },
  F16: { bytes: 2, read: (b: Buffer, n: number) => halfToFloat(new Uint16Array(b.buffer.slice(b.byteOffset, b.byteOffset + n * 2))) },
  BF16: { bytes: 2, read: (b: Buffer, n: number) => bf16ToFloat(new Uint16Array(b.buffer.slice(b.byteOffset, b.byteOffset + n * 2))) },
} as const;

type HeaderEntry = { dtype: string; shape: number[]; data_offsets: [number, number] };

/** Serialises tensors in the safetensors layout (8-byte header length, JSON header, raw little-endian data). */
export function encodeSafetensors(tensors: Record<string, tf.Tensor>, metadata: Record<string, string> = {}): Buffer {
  const names = Object.keys(tensors).sort();
  const header: Record<string, HeaderEntry | Record<string, string>> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    const isInt = t.dtype === 'int32';
    const data = isInt ? new Int32Array(t.dataSync() as Int32Array) : new Float32Array(t.dataSync() as Float32Array);
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: isInt ? 'I32' : 'F32', shape: t.shape, data_offsets: [offset, offset + buf.length] };
    chunks.push(buf);
    offset += buf.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // the format aligns the data section to 8 bytes
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json), ...chunks]);
}

/** Parses a safetensors buffer into float32/int32 tensors (F16/BF16 widened to float32). */
export function decodeSafetensors(buffer: Buffer, file = '(buffer)'): { tensors: Record<string, tf.Tensor>; metadata: Record<string, string> } {
  if (buffer.length < 8) throw new CheckpointError(file, `is ${buffer.length} bytes, too short to be safetensors (truncated write?)`);
  const headerLength = Number(buffer.readBigUInt64LE(0));
  if (headerLength > buffer.length - 8) throw new CheckpointError(file, `header length ${headerLength} exceeds the file size: the file is truncated or not safetensors`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buffer.subarray(8, 8 + headerLength).toString('utf8'));
  } catch (e) {
    throw new CheckpointError(file, `header is not valid JSON (${(e as Error).message}); the file is corrupt`);
  }
  const data = buffer.subarray(8 + headerLength);
  const tensors: Record<string, tf.Tensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = entry as HeaderEntry;
    const kind = DTYPES[dtype as keyof typeof DTYPES];
    if (!kind) throw new CheckpointError(file, `tensor ${name} has dtype ${dtype}; supported: ${Object.keys(DTYPES).join(', ')}`);
    const n = shape.reduce((a, b) => a * b, 1);
    const [start, end] = data_offsets;
    if (end - start !== n * kind.bytes || end > data.length)
      throw new CheckpointError(file, `tensor ${name} spans bytes ${start}-${end} but needs ${n * kind.bytes} within ${data.length}: the file is corrupt`);
    const values = kind.read(data.subarray(start, end), n);
    tensors[name] = tf.tensor(values, shape, values instanceof Int32Array ? 'int32' : 'float32');
  }
  return { tensors, metadata };
}

/** Writes next to the target and renames, so a crash never leaves a half-written checkpoint. */
export async function writeFileAtomic(path: string, data: Buffer | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export async function saveSafetensors(path: string, tensors: Record<string, tf.Tensor>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export async function loadSafetensors(path: string): Promise<{ tensors: Record<string, tf.Tensor>; metadata: Record<string, string> }> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(path, code === 'ENOENT' ? 'file not found; pass the folder of a finished run' : `cannot be read (${code})`);
  }
  return decodeSafetensors(buffer, path);
}

function halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const v = h[i]!;
    const sign = v & 0x8000 ? -1 : 1;
    const exp = (v >> 10) & 0x1f;
    const frac = v & 0x3ff;
    out[i] = exp === 0 ? sign * 2 ** -14 * (frac / 1024) : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return out;
}

function bf16ToFloat(h: Uint16Array): Float32Array {
  const bits = new Uint32Array(h.length);
  for (let i = 0; i < h.length; i++) bits[i] = h[i]! << 16;
  return new Float32Array(bits.buffer);
}
