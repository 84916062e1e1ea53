import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@mllm/core';
import { HighResEncoder, highResSchema } from './high-res';
import { VisionTransformer, vitSchema } from './vit';

// 24 px, patch 8: a 3 x 3 grid, so a swapped rows/columns or a missed CLS offset shows
const vit = (extra: Record<string, unknown> = {}) => new VisionTransformer(vitSchema.parse({ type: 'vit', imageSize: 24, patchSize: 8, dim: 8, layers: 1, heads: 2, ...extra }), new Rng(1));

describe('tokenGrid: where encode() puts each patch', () => {
  it.each([
    ['patch tokens only', {}, 0],
    ['CLS first (includeCls)', { includeCls: true }, 1],
    ['siglip (no CLS)', { variant: 'siglip' }, 0],
  ])('%s: N = leading + rows * columns, and patch (r, c) is token leading + r * columns + c', (_name, extra, leading) => {
    // featureLayer 0 = the embeddings: no attention mixes tokens, so one changed patch changes one token
    const encoder = vit({ featureLayer: 0, ...extra });
    const grid = encoder.tokenGrid;
    expect(grid).toEqual({ rows: 3, columns: 3, leading, trailing: 0 });
    expect(grid.leading + grid.rows * grid.columns + grid.trailing).toBe(encoder.numTokens);
    const [r, c] = [2, 1];
    const base = tf.fill([1, 24, 24, 3], 0.5) as tf.Tensor4D;
    const changed = tf.tidy(() => {
      const mask = tf.zeros([1, 24, 24, 1]).bufferSync();
      for (let y = r * 8; y < r * 8 + 8; y++) for (let x = c * 8; x < c * 8 + 8; x++) mask.set(1, 0, y, x, 0);
      return base.add(mask.toTensor().mul(0.3)) as tf.Tensor4D;
    });
    const diff = encoder.encode(changed).sub(encoder.encode(base)).abs().max(2).dataSync(); // [N] per token
    const moved = Array.from(diff).flatMap((d, i) => (d > 1e-6 ? [i] : []));
    expect(moved).toEqual([leading + r * grid.columns + c]);
  });

  it('highRes: resize keeps the base grid (merged to g / m a side), tiles have none', () => {
    const base = vit();
    const resize = new HighResEncoder(base, highResSchema.parse({ strategy: 'resize', inputSize: 48 }), new Rng(2));
    expect(resize.tokenGrid).toEqual(base.tokenGrid);
    const big = new VisionTransformer(vitSchema.parse({ type: 'vit', imageSize: 32, patchSize: 8, dim: 8, layers: 1, heads: 2 }), new Rng(1));
    const merged = new HighResEncoder(big, highResSchema.parse({ strategy: 'resize', inputSize: 64, merge: 2 }), new Rng(2));
    expect(merged.tokenGrid).toEqual({ rows: 2, columns: 2, leading: 0, trailing: 0 });
    expect(merged.numTokens).toBe(4);
    const tiles = new HighResEncoder(big, highResSchema.parse({ strategy: 'tiles', inputSize: 64 }), new Rng(2));
    expect(tiles.tokenGrid).toBeUndefined(); // thumbnail first, a separator after every row
  });
});
