import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveSafetensors, loadSafetensors, decodeSafetensors } from './safetensors';

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
