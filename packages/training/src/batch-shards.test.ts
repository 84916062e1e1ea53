import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { shardBatch } from './batch-shards';
import { StageData } from './stage-data';
import { make, tokenizer, world } from './tiny-run.test-helper';

describe('shardBatch', () => {
  const m = make();
  const data = new StageData(world, tokenizer, 5);
  const rng = data.rngFor(3, 0, 'train');
  const kinds = ['caption', 'detail', 'qa'] as const;
  const samples = data.pickScenes(rng, 'train', 9).map((s, i) => data.tokenize(data.conversation('instruct', s, rng, kinds[i % 3]!)));
  const batch = m.collate(samples);
  const real = (b: typeof batch, r: number) => b.inputIds[r]!.slice(0, b.attentionMask[r]!.reduce((a, x) => a + x, 0)).join(',');

  it('hands every row to exactly one shard, trimmed to its shard\'s longest row, with its images', () => {
    const shards = shardBatch(batch, 2);
    expect(shards).toHaveLength(2);
    const rows = shards.flatMap((s) => s.batch.inputIds.map((_, r) => real(s.batch, r)));
    expect(rows.sort()).toEqual(batch.inputIds.map((_, r) => real(batch, r)).sort());
    for (const { batch: b } of shards) {
      const longest = Math.max(...b.attentionMask.map((row) => row.reduce((a, x) => a + x, 0)));
      expect(b.inputIds.every((row) => row.length === longest)).toBe(true);
      expect(b.images).toHaveLength(b.slots.length);
      // each slot still points at its <image> placeholders
      for (const slot of b.slots) expect(b.inputIds[slot.row]![slot.start]).toBe(tokenizer.special.image);
    }
    expect(shards.reduce((a, s) => a + s.batch.images.length, 0)).toBe(batch.images.length);
    // shorter rows go together, so the padded work is less than the whole batch's
    const work = (b: typeof batch) => b.inputIds.length * b.inputIds[0]!.length;
    expect(work(shards[0]!.batch) + work(shards[1]!.batch)).toBeLessThan(work(batch));
  });

  it('weighs shards by trained tokens so their weighted mean loss is the whole batch\'s per-token mean', () => {
    for (const parts of [2, 3]) {
      const shards = shardBatch(batch, parts);
      const total = shards.reduce((a, s) => a + s.weight, 0);
      expect(total).toBe(batch.weights.flat().reduce((a, b) => a + b, 0));
      const whole = tf.tidy(() => m.loss(batch).dataSync()[0]!);
      const parted = shards.reduce((a, s) => a + tf.tidy(() => m.loss(s.batch).dataSync()[0]!) * s.weight, 0) / total;
      expect(Math.abs(parted - whole) / whole).toBeLessThan(1e-5);
    }
  });

  it('makes one shard per part while rows last', () => {
    expect(shardBatch(batch, 9)).toHaveLength(9);
    expect(shardBatch(batch, 12)).toHaveLength(9);
  });
});
