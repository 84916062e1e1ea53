import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveSafetensors, loadSafetensors, decodeSafetensors, encodeSafetensors, readSafetensorsHeader } from './safetensors';
import { CheckpointError } from './errors';
import { Rng } from './rng';

describe('safetensors', () => {
  it('round-trips tensors and metadata, and leaves no temp file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'model.safetensors');
    await saveSafetensors(path, { 'a.weight': tf.tensor2d([[1, 2], [3, 4.5]]), 'b.ids': tf.tensor1d([7, 8], 'int32') }, { format: 'pt' });
    const { tensors, metadata } = await loadSafetensors(path);
    expect(Array.from(tensors['a.weight']!.dataSync())).toEqual([1, 2, 3, 4.5]);
    expect(tensors['b.ids']!.dtype).toBe('int32');
    expect(metadata).toEqual({ format: 'pt' });
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    // header length is 8-byte aligned, as the format requires
    expect(Number(readFileSync(path).readBigUInt64LE(0)) % 8).toBe(0);
  });

  it('reads F16 and BF16 by widening to float32', () => {
    const header = JSON.stringify({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] } });
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(BigInt(header.length));
    const data = Buffer.from(new Uint16Array([0x3c00, 0xc000, 0x3fc0]).buffer); // 1, -2 (f16), 1.5 (bf16)
    const { tensors } = decodeSafetensors(Buffer.concat([head, Buffer.from(header), data]));
    expect(Array.from(tensors.h!.dataSync())).toEqual([1, -2]);
    expect(Array.from(tensors.b!.dataSync())).toEqual([1.5]);
  });

  it('names the file and the reason when missing or corrupt', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    await expect(loadSafetensors(join(dir, 'nope.safetensors'))).rejects.toThrow(/nope.safetensors: file not found/);
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, Buffer.from([1, 2, 3]));
    await expect(loadSafetensors(bad)).rejects.toThrow(/bad.safetensors: is 3 bytes, too short/);
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(1000n);
    writeFileSync(bad, Buffer.concat([head, Buffer.from('{}')]));
    await expect(loadSafetensors(bad)).rejects.toThrow(/truncated/);
  });
});

/** A file written by hand, so each test can break exactly one thing in it. */
function rawFile(header: unknown, data: Buffer = Buffer.alloc(0), declaredLength?: bigint): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(declaredLength ?? BigInt(json.length));
  return Buffer.concat([head, json, data]);
}

describe('safetensors validation', () => {
  const f32 = (n: number) => Buffer.from(new Float32Array(n).fill(1).buffer);

  it('refuses a header over 100 MB before reading it', () => {
    expect(() => decodeSafetensors(rawFile({}, Buffer.alloc(0), 100_000_001n))).toThrow(/over the 100000000-byte limit/);
    expect(() => decodeSafetensors(rawFile({}, Buffer.alloc(0), 2n ** 64n - 1n))).toThrow(CheckpointError);
  });

  it('refuses offsets out of bounds, overlapping, reversed, or not matching shape x dtype', () => {
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32(2)))).toThrow(/data section has only 8 bytes/);
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32(2)))).toThrow(/spans 8 bytes but shape \[3\] x F32 needs 12/);
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, f32(2)))).toThrow(/end before start/);
    expect(() =>
      decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32(3))),
    ).toThrow(/a \(bytes 0-8\) and b \(bytes 4-12\) overlap/);
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, -8] } }, f32(2)))).toThrow(/data_offsets/);
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }, f32(2)))).toThrow(/non-negative integers/);
  });

  it('refuses a data section the tensors do not tile exactly: a hole between two, before the first, or bytes after the last (safetensors spec)', () => {
    const two = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [12, 16] } };
    expect(() => decodeSafetensors(rawFile(two, f32(4)), 'holed.safetensors')).toThrow(/holed\.safetensors: tensor b starts at byte 12 but a ends at 8: 4 bytes belong to no tensor \(a hole\)/);
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)))).toThrow(/tensor a starts at byte 4 but the data section starts at 0/);
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32(3)), 'long.safetensors')).toThrow(
      /long\.safetensors: 4 bytes follow the last tensor \(a ends at byte 8\) in a data section of 12 bytes/,
    );
    expect(() => decodeSafetensors(rawFile({ __metadata__: { format: 'pt' } }, f32(1)))).toThrow(/4 bytes follow the last tensor in a data section of 4 bytes/);
    // the same tensors tiled without gaps load, in any header order, empty tensors included
    const tiled = { b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] }, e: { dtype: 'F32', shape: [0], data_offsets: [8, 8] }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const { tensors } = decodeSafetensors(rawFile(tiled, f32(3)));
    expect(Object.keys(tensors).sort()).toEqual(['a', 'b', 'e']);
    expect(tensors.e!.shape).toEqual([0]);
  });

  it('reads a header without the data, checked against the file size, and refuses a tampered or truncated file by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'model.safetensors');
    await saveSafetensors(path, { 'w.weight': tf.zeros([3, 5]), ids: tf.tensor1d([1, 2], 'int32') }, { format: 'pt' });
    const { entries, metadata } = await readSafetensorsHeader(path);
    expect(entries.map((e) => [e.name, e.dtype, e.shape])).toEqual([
      ['ids', 'I32', [2]],
      ['w.weight', 'F32', [3, 5]],
    ]);
    expect(metadata).toEqual({ format: 'pt' });
    const bytes = readFileSync(path);
    writeFileSync(path, Buffer.concat([bytes, Buffer.alloc(4)]));
    await expect(readSafetensorsHeader(path)).rejects.toThrow(/model\.safetensors: 4 bytes follow the last tensor \(w\.weight ends at byte 68\)/);
    writeFileSync(path, bytes.subarray(0, bytes.length - 4));
    await expect(readSafetensorsHeader(path)).rejects.toThrow(/model\.safetensors: tensor w\.weight spans bytes 8-68 but the data section has only 64 bytes/);
    writeFileSync(path, bytes.subarray(0, 20));
    await expect(readSafetensorsHeader(path)).rejects.toThrow(/model\.safetensors: header length \d+ exceeds the file size \(20 bytes\)/);
    await expect(readSafetensorsHeader(join(dir, 'nope.safetensors'))).rejects.toThrow(/nope\.safetensors: file not found/);
  });

  it('refuses an unknown dtype naming the supported ones, and a header that is not a JSON object', () => {
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1)))).toThrow(/"F8_E4M3"; supported: .*BF16/);
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'toString', shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1)))).toThrow(/supported/);
    expect(() => decodeSafetensors(rawFile('{"a": '))).toThrow(/not valid JSON/);
    expect(() => decodeSafetensors(rawFile('[1,2]'))).toThrow(/must be a JSON object/);
    expect(() => decodeSafetensors(rawFile({ __metadata__: { a: 1 } }))).toThrow(/__metadata__.a must be a string/);
  });

  it('reads I64 (as int32), F64, I8, U8 and BOOL, and refuses I64 values past int32', () => {
    const i64 = Buffer.from(new BigInt64Array([5n, -3n]).buffer);
    const f64 = Buffer.from(new Float64Array([0.5]).buffer);
    const { tensors } = decodeSafetensors(
      rawFile(
        {
          i: { dtype: 'I64', shape: [2], data_offsets: [0, 16] },
          d: { dtype: 'F64', shape: [1], data_offsets: [16, 24] },
          s: { dtype: 'I8', shape: [1], data_offsets: [24, 25] },
          u: { dtype: 'U8', shape: [1], data_offsets: [25, 26] },
          b: { dtype: 'BOOL', shape: [1], data_offsets: [26, 27] },
        },
        Buffer.concat([i64, f64, Buffer.from([0xff, 0xff, 7])]),
      ),
    );
    expect(tensors.i!.dtype).toBe('int32');
    expect(Array.from(tensors.i!.dataSync())).toEqual([5, -3]);
    expect(Array.from(tensors.d!.dataSync())).toEqual([0.5]);
    expect([tensors.s!.dataSync()[0], tensors.u!.dataSync()[0], tensors.b!.dataSync()[0]]).toEqual([-1, 255, 1]);
    const big = Buffer.from(new BigInt64Array([2n ** 40n]).buffer);
    expect(() => decodeSafetensors(rawFile({ i: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, big))).toThrow(/outside int32/);
  });

  it('fuzz: random bytes, truncations and corruptions of a valid file either load or throw a CheckpointError', () => {
    const rng = new Rng(11);
    const valid = encodeSafetensors(
      { 'model.embed_tokens.weight': tf.tensor2d([[1, 2, 3], [4, 5, 6]]), 'model.norm.weight': tf.tensor1d([1, 1, 1]), ids: tf.tensor1d([1, 2], 'int32') },
      { format: 'pt' },
    );
    const cases: Buffer[] = [];
    for (let n = 0; n <= valid.length; n++) cases.push(valid.subarray(0, n)); // every truncation
    for (let i = 0; i < 1500; i++) {
      const corrupt = Buffer.from(valid);
      const flips = rng.range(1, 4);
      for (let f = 0; f < flips; f++) corrupt[rng.int(corrupt.length)] = rng.int(256);
      cases.push(corrupt);
    }
    for (let i = 0; i < 1000; i++) cases.push(Buffer.from(Array.from({ length: rng.int(300) }, () => rng.int(256))));
    for (let i = 0; i < 300; i++) {
      // plausible length prefix + random body: reaches the JSON and entry checks, not just the size check
      const body = Buffer.from(Array.from({ length: rng.int(200) }, () => rng.int(256)));
      const head = Buffer.alloc(8);
      head.writeBigUInt64LE(BigInt(rng.int(body.length + 1)));
      cases.push(Buffer.concat([head, body]));
    }
    let loaded = 0;
    for (const bytes of cases) {
      try {
        const { tensors } = decodeSafetensors(bytes, 'fuzz.safetensors');
        loaded++;
        for (const t of Object.values(tensors)) t.dispose();
      } catch (e) {
        if (!(e instanceof CheckpointError)) throw new Error(`unexplained ${(e as Error).name}: ${(e as Error).message} for bytes ${bytes.toString('hex').slice(0, 80)}`);
        expect(e.message).toMatch(/^Checkpoint fuzz\.safetensors: /);
      }
    }
    expect(cases.length).toBeGreaterThan(2500);
    expect(loaded).toBeGreaterThan(0); // flips inside the data section still load
    expect(loaded).toBeLessThan(cases.length);
  });
});
