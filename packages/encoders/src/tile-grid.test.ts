import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { downsample, extractTiles, selectGrid, type GridShape } from './tile-grid';

const ANYRES: GridShape[] = [
  [1, 1],
  [1, 2],
  [2, 1],
  [2, 2],
];

describe('selectGrid (LLaVA-NeXT select_best_resolution)', () => {
  // Effective pixels = trunc(w*s) * trunc(h*s) with s = min(W/w, H/h), capped at w*h; then least waste.
  it.each([
    // 64x64: every smaller canvas keeps 32*32 = 1024 pixels, 2x2 keeps all 4096
    [64, 64, { rows: 2, cols: 2, width: 64, height: 64 }],
    // 100x40: 1x2 and 2x2 both keep 64*25 = 1600; 1x2 wastes 448, 2x2 wastes 2496
    [100, 40, { rows: 1, cols: 2, width: 64, height: 32 }],
    [40, 100, { rows: 2, cols: 1, width: 32, height: 64 }],
    // 20x20: every canvas keeps all 400 pixels (no upscaling gain); 1x1 wastes least
    [20, 20, { rows: 1, cols: 1, width: 32, height: 32 }],
    // 64x48: 1x2 keeps 42*32 = 1344, 2x2 keeps 64*48 = 3072
    [64, 48, { rows: 2, cols: 2, width: 64, height: 64 }],
  ])('%i x %i -> %o', (w, h, expected) => {
    expect(selectGrid(w, h, ANYRES, 32)).toEqual(expected);
  });

  it('keeps the first of equal grids, as the reference loop does', () => {
    expect(selectGrid(64, 64, [[2, 2], [2, 2]], 32)).toEqual({ rows: 2, cols: 2, width: 64, height: 64 });
  });

  it('refuses an empty grid list and empty images', () => {
    expect(() => selectGrid(10, 10, [], 32)).toThrow(/at least one/);
    expect(() => selectGrid(0, 10, ANYRES, 32)).toThrow(/positive/);
  });
});

describe('extractTiles', () => {
  it('equals cropping each tile by hand, image-major then row-major', () => {
    const [b, rows, cols, t] = [2, 2, 3, 4];
    const values = Float32Array.from({ length: b * rows * t * cols * t * 3 }, (_, i) => i);
    const pixels = tf.tensor4d(values, [b, rows * t, cols * t, 3]);
    const tiles = extractTiles(pixels, rows, cols).arraySync();
    const image = pixels.arraySync();
    expect(tiles.length).toBe(b * rows * cols);
    for (let i = 0; i < b; i++)
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++) {
          const crop = image[i]!.slice(r * t, (r + 1) * t).map((line) => line.slice(c * t, (c + 1) * t));
          expect(tiles[(i * rows + r) * cols + c]).toEqual(crop);
        }
  });

  it('refuses a canvas the grid does not split into square tiles', () => {
    expect(() => extractTiles(tf.zeros([1, 32, 48, 3]) as tf.Tensor4D, 2, 2)).toThrow(/square tiles/);
  });
});

describe('downsample', () => {
  it('averages each block (area resize at whole factors)', () => {
    const pixels = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 4, 4, 1]);
    expect(downsample(pixels, 2).reshape([4]).arraySync()).toEqual([(1 + 2 + 5 + 6) / 4, (3 + 4 + 7 + 8) / 4, (9 + 10 + 13 + 14) / 4, (11 + 12 + 15 + 16) / 4]);
    // different factors per axis squash a 2x4 canvas into 1x2 (a thumbnail of a 1x2 grid)
    expect(downsample(pixels, 4, 2).reshape([2]).arraySync()).toEqual([(1 + 2 + 5 + 6 + 9 + 10 + 13 + 14) / 8, (3 + 4 + 7 + 8 + 11 + 12 + 15 + 16) / 8]);
  });

  it('refuses factors that do not divide the image', () => {
    expect(() => downsample(tf.zeros([1, 6, 6, 3]) as tf.Tensor4D, 4)).toThrow(/does not divide/);
  });
});
