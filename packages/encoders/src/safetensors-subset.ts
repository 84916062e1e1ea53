import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import { CheckpointError, decodeSafetensors, type SafetensorsEntry } from '@mllm/core';
import { MAX_HEADER_BYTES, checkSafetensorsHeader } from '@mllm/core/internal';

// readSync takes an int32 length; Node's readFile refuses files over 2 GiB outright
const CHUNK = 1 << 30;

function readAt(fd: number, target: Buffer, targetOffset: number, length: number, position: number, file: string): void {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, target, targetOffset + done, Math.min(CHUNK, length - done), position + done);
    if (n === 0) throw new CheckpointError(file, `ends at byte ${position + done}, before the ${length} bytes its header promises: the file is truncated`);
    done += n;
  }
}

/** A file's header, read by position and checked whole (sizes, dtypes, byte ranges that tile the data section), with where its data starts. */
function readHeaderSync(fd: number, file: string): { headerBytes: Buffer; entries: SafetensorsEntry[]; dataStart: number; dataLength: number } {
  const size = fstatSync(fd).size;
  if (size < 8) throw new CheckpointError(file, `is ${size} bytes, too short to be safetensors (truncated write?)`);
  const prefix = Buffer.alloc(8);
  readAt(fd, prefix, 0, 8, 0, file);
  const declared = prefix.readBigUInt64LE(0);
  if (declared > BigInt(MAX_HEADER_BYTES)) throw new CheckpointError(file, `declares a ${declared}-byte header, over the ${MAX_HEADER_BYTES}-byte limit: the file is corrupt or not safetensors`);
  const headerLength = Number(declared);
  if (headerLength > size - 8) throw new CheckpointError(file, `header length ${headerLength} exceeds the file size (${size} bytes): the file is truncated or not safetensors`);
  const headerBytes = Buffer.alloc(headerLength);
  readAt(fd, headerBytes, 0, headerLength, 8, file);
  const dataStart = 8 + headerLength;
  // the whole header is checked, the tensors not read included: a hole or trailing bytes anywhere refuse the file
  const { entries } = checkSafetensorsHeader(headerBytes, size - dataStart, file);
  return { headerBytes, entries, dataStart, dataLength: size - dataStart };
}

/** The tensors one safetensors file declares (names, dtypes, shapes), from its header alone, synchronously. */
export function readSafetensorsEntriesSync(file: string): SafetensorsEntry[] {
  const fd = openSync(file, 'r');
  try {
    return readHeaderSync(fd, file).entries;
  } finally {
    closeSync(fd);
  }
}

/**
 * The tensors of one safetensors file whose names pass `keep`, read by position: the rest of
 * the file (a full CLIPModel's text tower) is never read or decoded, and files over Node's 2 GiB
 * readFile limit load. The selected entries are copied into a compact safetensors buffer that
 * @mllm/core's decodeSafetensors then validates and widens (F16 / BF16) as for any file.
 */
export function readSafetensorsSubset(file: string, keep: (name: string) => boolean): Record<string, tf.Tensor> {
  const fail = (reason: string): never => {
    throw new CheckpointError(file, reason);
  };
  const fd = openSync(file, 'r');
  try {
    const { headerBytes, dataStart, dataLength } = readHeaderSync(fd, file);
    const header = JSON.parse(headerBytes.toString('utf8')) as Record<string, unknown>;
    const picked: { name: string; entry: Record<string, unknown>; start: number; end: number }[] = [];
    for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__' || !keep(name)) continue;
      const offsets = (entry as { data_offsets?: unknown } | null)?.data_offsets;
      if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[1] < offsets[0])
        fail(`tensor ${name} has data_offsets ${JSON.stringify(offsets)}; expected [start, end] byte offsets`);
      const [start, end] = offsets as [number, number];
      if (end > dataLength) fail(`tensor ${name} spans bytes ${start}-${end} but the data section has only ${dataLength} bytes: the file is truncated or corrupt`);
      picked.push({ name, entry: entry as Record<string, unknown>, start, end });
    }
    let offset = 0;
    const compactHeader: Record<string, unknown> = {};
    for (const p of picked) {
      compactHeader[p.name] = { ...p.entry, data_offsets: [offset, offset + p.end - p.start] };
      offset += p.end - p.start;
    }
    const compactHeaderBytes = Buffer.from(JSON.stringify(compactHeader), 'utf8');
    const out = Buffer.alloc(8 + compactHeaderBytes.length + offset);
    out.writeBigUInt64LE(BigInt(compactHeaderBytes.length), 0);
    compactHeaderBytes.copy(out, 8);
    let at = 8 + compactHeaderBytes.length;
    for (const p of picked) {
      readAt(fd, out, at, p.end - p.start, dataStart + p.start, file);
      at += p.end - p.start;
    }
    return decodeSafetensors(out, file).tensors;
  } finally {
    closeSync(fd);
  }
}
