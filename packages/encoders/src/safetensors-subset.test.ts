import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, Rng, encodeSafetensors } from '@mllm/core';
import { readSafetensorsSubset } from './safetensors-subset';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'st-subset-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function tensors(): Record<string, tf.Tensor> {
  return {
    'text_model.a': tf.tensor([1, 2, 3, 4], [2, 2]),
    'vision_model.w': tf.tensor([0.5, -1.25, 3, 8, 0.125, -2], [2, 3]),
    'vision_model.b': tf.tensor([7, -7], [2]),
    'text_model.z': tf.tensor([9], [1]),
  };
}

describe('readSafetensorsSubset', () => {
  it('reads only the selected tensors, equal to the stored values (F32 and BF16)', () => {
    for (const floatDtype of ['F32', 'BF16'] as const) {
      const all = tensors();
      const file = join(root, `ok-${floatDtype}.safetensors`);
      writeFileSync(file, encodeSafetensors(all, { format: 'pt' }, { floatDtype }));
      const before = tf.memory().numTensors;
      const got = readSafetensorsSubset(file, (n) => n.startsWith('vision_model.'));
      expect(Object.keys(got).sort()).toEqual(['vision_model.b', 'vision_model.w']);
      expect(got['vision_model.w']!.shape).toEqual([2, 3]);
      expect(Array.from(got['vision_model.w']!.dataSync())).toEqual([0.5, -1.25, 3, 8, 0.125, -2]); // exact in BF16 too
      expect(Array.from(got['vision_model.b']!.dataSync())).toEqual([7, -7]);
      expect(tf.memory().numTensors).toBe(before + 2);
      tf.dispose([...Object.values(got), ...Object.values(all)]);
    }
  });

  it('refuses corrupt files with a CheckpointError naming the file: header too long, truncated, random bytes', () => {
    const all = tensors();
    const good = encodeSafetensors(all, { format: 'pt' });
    tf.dispose(Object.values(all));
    const file = join(root, 'bad.safetensors');
    const attempt = (bytes: Buffer) => {
      writeFileSync(file, bytes);
      try {
        tf.dispose(Object.values(readSafetensorsSubset(file, () => true)));
        return 'ok';
      } catch (e) {
        expect(e).toBeInstanceOf(CheckpointError);
        expect((e as Error).message).toContain(file);
        return 'refused';
      }
    };
    const huge = Buffer.from(good);
    huge.writeBigUInt64LE(BigInt(200_000_000), 0);
    expect(attempt(huge)).toBe('refused');
    for (let cut = 0; cut < good.length; cut += 7) expect(attempt(good.subarray(0, cut))).toBe('refused');
    const rng = new Rng(5);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) {
      const noise = Buffer.from(good);
      for (let k = 0; k < 4; k++) noise[Math.floor(rng.next() * noise.length)] = Math.floor(rng.next() * 256);
      attempt(noise); // either reads or refuses; never crashes or hangs
      attempt(Buffer.from(Array.from({ length: 64 }, () => Math.floor(rng.next() * 256))));
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(readFileSync(file).length).toBe(64);
  });
});
