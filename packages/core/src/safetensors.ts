import * as tf from '@tensorflow/tfjs';
import { open, readFile, writeFile, rename, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CheckpointError } from './errors';

/** Headers of real checkpoints are a few MB at most; the reference (Rust) reader refuses past 100 MB too. */
export const MAX_HEADER_BYTES = 100_000_000;

type Reader = (bytes: Buffer, n: number) => Float32Array | Int32Array;

/** Every dtype we read, its element size, and how it becomes float32/int32 (tfjs's only numeric dtypes). */
const DTYPES: Record<string, { bytes: number; read: Reader }> = {
  F64: { bytes: 8, read: (b, n) => Float32Array.from(new Float64Array(copy(b, n * 8))) },
  F32: { bytes: 4, read: (b, n) => new Float32Array(copy(b, n * 4)) },
  F16: { bytes: 2, read: (b, n) => halfToFloat(new Uint16Array(copy(b, n * 2))) },
  BF16: { bytes: 2, read: (b, n) => bf16ToFloat(new Uint16Array(copy(b, n * 2))) },
  I64: { bytes: 8, read: (b, n) => int64ToInt32(new BigInt64Array(copy(b, n * 8))) },
  I32: { bytes: 4, read: (b, n) => new Int32Array(copy(b, n * 4)) },
  I16: { bytes: 2, read: (b, n) => Int32Array.from(new Int16Array(copy(b, n * 2))) },
  I8: { bytes: 1, read: (b, n) => Int32Array.from(new Int8Array(copy(b, n))) },
  U8: { bytes: 1, read: (b, n) => Int32Array.from(new Uint8Array(copy(b, n))) },
  BOOL: { bytes: 1, read: (b, n) => Int32Array.from(new Uint8Array(copy(b, n)), (v) => (v ? 1 : 0)) },
};

type HeaderEntry = { dtype: string; shape: number[]; data_offsets: [number, number] };

export interface EncodeOptions {
  /** How float tensors are stored; F16/BF16 halve the file (rounded to nearest even), as HF publishes most checkpoints. */
  floatDtype?: 'F32' | 'F16' | 'BF16';
}

/** Serialises tensors in the safetensors layout (8-byte header length, JSON header, raw little-endian data). */
export function encodeSafetensors(tensors: Record<string, tf.Tensor>, metadata: Record<string, string> = {}, options: EncodeOptions = {}): Buffer {
  const floatDtype = options.floatDtype ?? 'F32';
  const names = Object.keys(tensors).sort();
  const header: Record<string, HeaderEntry | Record<string, string>> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    const isInt = t.dtype === 'int32';
    const data = isInt
      ? new Int32Array(t.dataSync() as Int32Array)
      : floatDtype === 'F16'
        ? floatToHalf(t.dataSync() as Float32Array)
        : floatDtype === 'BF16'
          ? floatToBf16(t.dataSync() as Float32Array)
          : new Float32Array(t.dataSync() as Float32Array);
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: isInt ? 'I32' : floatDtype, shape: t.shape, data_offsets: [offset, offset + buf.length] };
    chunks.push(buf);
    offset += buf.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // the format aligns the data section to 8 bytes
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json), ...chunks]);
}

/**
 * Parses a safetensors buffer into float32/int32 tensors (F16/BF16/F64 widened or narrowed to
 * float32, integer types to int32). Everything is validated before the first tensor is made, so
 * a corrupt file throws a CheckpointError and leaks nothing.
 */
export function decodeSafetensors(buffer: Buffer, file = '(buffer)'): { tensors: Record<string, tf.Tensor>; metadata: Record<string, string> } {
  const { entries, metadata, data } = parseSafetensorsHeader(buffer, file);
  const tensors: Record<string, tf.Tensor> = {};
  for (const { name, dtype, shape, start, end } of entries) {
    let values: Float32Array | Int32Array;
    try {
      values = DTYPES[dtype]!.read(data.subarray(start, end), sizeOf(shape));
    } catch (e) {
      for (const t of Object.values(tensors)) t.dispose();
      throw new CheckpointError(file, `tensor ${name}: ${(e as Error).message}`);
    }
    tensors[name] = tf.tensor(values, shape, values instanceof Int32Array ? 'int32' : 'float32');
  }
  return { tensors, metadata };
}

/** One tensor of a checked header: its name, dtype, shape and byte range in the data section. */
export interface ValidEntry {
  name: string;
  dtype: string;
  shape: number[];
  start: number;
  end: number;
}

/**
 * Validates the header against the file as the safetensors spec (and its Rust reader) does:
 * header length, dtypes, shapes, and byte ranges that tile the data section exactly: every
 * range in bounds and as long as its shape and dtype need, no overlap, no hole between two
 * tensors, no byte after the last one. A file that passes holds exactly what its header says.
 */
export function parseSafetensorsHeader(buffer: Buffer, file = '(buffer)'): { entries: ValidEntry[]; metadata: Record<string, string>; data: Buffer } {
  if (buffer.length < 8) throw new CheckpointError(file, `is ${buffer.length} bytes, too short to be safetensors (truncated write?)`);
  const headerLength = checkedHeaderLength(buffer.readBigUInt64LE(0), buffer.length, file);
  const data = buffer.subarray(8 + headerLength);
  return { ...validateHeader(buffer.subarray(8, 8 + headerLength), data.length, file), data };
}

/**
 * The header of a safetensors file, read without its data (8 bytes, then the header): tensor
 * names, dtypes and shapes, checked against the file's size as `parseSafetensorsHeader` checks
 * them, so shapes can be compared with a config before any weight is read or allocated.
 */
export async function readSafetensorsHeader(path: string): Promise<{ entries: ValidEntry[]; metadata: Record<string, string> }> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(path, code === 'ENOENT' ? 'file not found' : `cannot be read (${code})`);
  }
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(8);
    if (size < 8 || (await handle.read(head, 0, 8, 0)).bytesRead < 8) throw new CheckpointError(path, `is ${size} bytes, too short to be safetensors (truncated write?)`);
    const headerLength = checkedHeaderLength(head.readBigUInt64LE(0), size, path);
    const header = Buffer.alloc(headerLength);
    const { bytesRead } = await handle.read(header, 0, headerLength, 8);
    if (bytesRead < headerLength) throw new CheckpointError(path, `header is cut short (${bytesRead} of ${headerLength} bytes read): the file is truncated`);
    return validateHeader(header, size - 8 - headerLength, path);
  } finally {
    await handle.close();
  }
}

/** The declared header length, refused when absurd or past the end of a file of `fileSize` bytes. */
function checkedHeaderLength(declared: bigint, fileSize: number, file: string): number {
  if (declared > BigInt(MAX_HEADER_BYTES)) throw new CheckpointError(file, `declares a ${declared}-byte header, over the ${MAX_HEADER_BYTES}-byte limit: the file is corrupt or not safetensors`);
  const headerLength = Number(declared);
  if (headerLength > fileSize - 8) throw new CheckpointError(file, `header length ${headerLength} exceeds the file size (${fileSize} bytes): the file is truncated or not safetensors`);
  return headerLength;
}

/** A header's JSON checked against a data section of `dataLength` bytes (see parseSafetensorsHeader), for readers that read by position. */
export function validateHeader(headerBytes: Buffer, dataLength: number, file: string): { entries: ValidEntry[]; metadata: Record<string, string> } {
  const fail = (reason: string): never => {
    throw new CheckpointError(file, reason);
  };
  let header: unknown;
  try {
    header = JSON.parse(headerBytes.toString('utf8'));
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message}); the file is corrupt or not safetensors`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header must be a JSON object of tensor name -> {dtype, shape, data_offsets}');
  let metadata: Record<string, string> = {};
  const entries: ValidEntry[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(entry, fail);
      continue;
    }
    entries.push(parseEntry(name, entry, dataLength, fail));
  }
  checkTiling(entries, dataLength, fail);
  return { entries, metadata };
}

/** The spec's rule: sorted by offset, each tensor starts where the one before ends, and the last ends where the data does. */
function checkTiling(entries: readonly ValidEntry[], dataLength: number, fail: (reason: string) => never): void {
  const sorted = [...entries].sort((a, b) => a.start - b.start || a.end - b.end);
  let end = 0;
  let previous: ValidEntry | undefined;
  for (const cur of sorted) {
    if (cur.start < end) fail(`tensors ${previous!.name} (bytes ${previous!.start}-${previous!.end}) and ${cur.name} (bytes ${cur.start}-${cur.end}) overlap: the file is corrupt`);
    if (cur.start > end)
      fail(`tensor ${cur.name} starts at byte ${cur.start} but ${previous ? `${previous.name} ends at ${end}` : 'the data section starts at 0'}: ${cur.start - end} bytes belong to no tensor (a hole); the file is corrupt or was edited`);
    end = cur.end;
    previous = cur;
  }
  if (end !== dataLength)
    fail(`${dataLength - end} bytes follow the last tensor${previous ? ` (${previous.name} ends at byte ${end})` : ''} in a data section of ${dataLength} bytes: trailing bytes belong to no tensor; the file is corrupt or was appended to`);
}

function parseEntry(name: string, entry: unknown, dataLength: number, fail: (reason: string) => never): ValidEntry {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return fail(`tensor ${name} must be an object {dtype, shape, data_offsets}`);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string') return fail(`tensor ${name} has no dtype string`);
  const kind = Object.hasOwn(DTYPES, dtype) ? DTYPES[dtype] : undefined;
  if (!kind) return fail(`tensor ${name} has dtype ${JSON.stringify(dtype)}; supported: ${Object.keys(DTYPES).join(', ')}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    return fail(`tensor ${name} has shape ${JSON.stringify(shape)}; a shape is a list of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
    return fail(`tensor ${name} has data_offsets ${JSON.stringify(offsets)}; expected [start, end] byte offsets`);
  const [start, end] = offsets as [number, number];
  if (end < start) return fail(`tensor ${name} has data_offsets [${start}, ${end}] with end before start: the file is corrupt`);
  if (end > dataLength) return fail(`tensor ${name} spans bytes ${start}-${end} but the data section has only ${dataLength} bytes: the file is truncated or corrupt`);
  const expected = sizeOf(shape as number[]) * kind.bytes;
  if (end - start !== expected)
    return fail(`tensor ${name} spans ${end - start} bytes but shape [${(shape as number[]).join(', ')}] x ${dtype} needs ${expected}: the file is corrupt`);
  return { name, dtype, shape: shape as number[], start, end };
}

function parseMetadata(entry: unknown, fail: (reason: string) => never): Record<string, string> {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return fail('__metadata__ must be an object of string -> string');
  for (const [k, v] of Object.entries(entry)) if (typeof v !== 'string') fail(`__metadata__.${k} must be a string, got ${typeof v}`);
  return entry as Record<string, string>;
}

/** Product of a shape; may exceed 2^53 for absurd shapes, which then fails the byte-size check. */
function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Typed arrays need aligned, owned memory; a Buffer view into the file is neither. */
function copy(b: Buffer, bytes: number): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + bytes) as ArrayBuffer;
}

/** Writes next to the target and renames, so a crash never leaves a half-written checkpoint. */
export async function writeFileAtomic(path: string, data: Buffer | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export async function saveSafetensors(path: string, tensors: Record<string, tf.Tensor>, metadata?: Record<string, string>, options?: EncodeOptions): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata, options));
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

function floatToBf16(f: Float32Array): Uint16Array {
  const bits = new Uint32Array(Float32Array.from(f).buffer);
  const out = new Uint16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const b = bits[i]!;
    out[i] = (b & 0x7fffffff) > 0x7f800000 ? 0x7fc0 : (b + 0x7fff + ((b >>> 16) & 1)) >>> 16; // NaN stays NaN; else nearest even
  }
  return out;
}

function floatToHalf(f: Float32Array): Uint16Array {
  const out = new Uint16Array(f.length);
  const bits = new Uint32Array(Float32Array.from(f).buffer);
  for (let i = 0; i < f.length; i++) {
    const x = bits[i]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    const mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 31) out[i] = sign | 0x7c00; // overflow -> inf
    else if (e <= 0) {
      if (e < -10) out[i] = sign; // underflow -> signed zero
      else {
        const m = mant | 0x800000;
        const shift = 14 - e;
        const half = m >>> shift;
        const rem = m & ((1 << shift) - 1);
        const mid = 1 << (shift - 1);
        out[i] = sign | (half + (rem > mid || (rem === mid && half & 1) ? 1 : 0));
      }
    } else {
      const half = (e << 10) | (mant >>> 13);
      const rem = mant & 0x1fff;
      out[i] = sign | (half + (rem > 0x1000 || (rem === 0x1000 && half & 1) ? 1 : 0)); // a carry rolls into the exponent correctly
    }
  }
  return out;
}

function bf16ToFloat(h: Uint16Array): Float32Array {
  const bits = new Uint32Array(h.length);
  for (let i = 0; i < h.length; i++) bits[i] = h[i]! << 16;
  return new Float32Array(bits.buffer);
}

/** Token ids and position ids are stored as I64 by PyTorch; values past int32 cannot be ids we use. */
function int64ToInt32(v: BigInt64Array): Int32Array {
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (x > 2147483647n || x < -2147483648n) throw new RangeError(`I64 value ${x} is outside int32 and tfjs has no int64`);
    out[i] = Number(x);
  }
  return out;
}
