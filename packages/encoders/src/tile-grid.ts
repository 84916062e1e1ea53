import * as tf from '@tensorflow/tfjs';
import { MllmError } from '@mllm/core';

/**
 * Tile grids for high-resolution input (LLaVA-NeXT's AnyRes, Liu et al. 2024; Monkey,
 * arXiv:2311.06607). A grid is `[rows, cols]` of tiles, each at the encoder's own resolution.
 * Shapes: B batch, H x W pixels, C channels, t tile side.
 */
export type GridShape = readonly [rows: number, cols: number];

/** Where an image goes before tiling: the grid and the canvas (rows*t x cols*t) it must be resized and padded to. */
export interface TileLayout {
  rows: number;
  cols: number;
  /** Canvas the image is resized into (keeping its aspect ratio, then padded): cols * tile x rows * tile. */
  width: number;
  height: number;
}

/**
 * The grid whose canvas keeps the most of the image's pixels when the image is scaled to fit
 * in it (aspect ratio kept), ties broken by the least padding: LLaVA-NeXT's
 * `select_best_resolution` (haotian-liu/LLaVA llava/mm_utils.py; transformers llava_next),
 * with the same integer truncation of the scaled size.
 */
export function selectGrid(width: number, height: number, grids: readonly GridShape[], tile: number): TileLayout {
  if (!(width > 0 && height > 0)) throw new MllmError(`selectGrid: image size must be positive, got ${width}x${height}`);
  if (grids.length === 0) throw new MllmError('selectGrid: no grids to choose from; list at least one [rows, cols]');
  let best: TileLayout | undefined;
  let bestEffective = -1;
  let bestWasted = Infinity;
  for (const [rows, cols] of grids) {
    const w = cols * tile;
    const h = rows * tile;
    const scale = Math.min(w / width, h / height);
    const effective = Math.min(Math.trunc(width * scale) * Math.trunc(height * scale), width * height);
    const wasted = w * h - effective;
    if (effective > bestEffective || (effective === bestEffective && wasted < bestWasted)) {
      best = { rows, cols, width: w, height: h };
      bestEffective = effective;
      bestWasted = wasted;
    }
  }
  return best!;
}

/** Cuts pixels [B, rows*t, cols*t, C] into tiles [B*rows*cols, t, t, C], image-major and row-major within an image. */
export function extractTiles(pixels: tf.Tensor4D, rows: number, cols: number): tf.Tensor4D {
  const [b, h, w, c] = pixels.shape;
  if (h % rows !== 0 || w % cols !== 0 || h / rows !== w / cols)
    throw new MllmError(`extractTiles: a ${h}x${w} image does not split into ${rows}x${cols} square tiles`);
  const t = h / rows;
  return tf.tidy(() =>
    pixels
      .reshape([b, rows, t, cols, t, c])
      .transpose([0, 1, 3, 2, 4, 5]) // [B, rows, cols, t, t, C]
      .reshape([b * rows * cols, t, t, c]),
  ) as tf.Tensor4D;
}

/**
 * Area-average downsampling by whole factors: each output pixel is the mean of a fy x fx block
 * (what an antialiased resize does at integer ratios, so small objects blur rather than vanish
 * between sample points). pixels [B, H, W, C] -> [B, H/fy, W/fx, C].
 */
export function downsample(pixels: tf.Tensor4D, fy: number, fx: number = fy): tf.Tensor4D {
  const [b, h, w, c] = pixels.shape;
  if (!Number.isInteger(fy) || !Number.isInteger(fx) || fy < 1 || fx < 1 || h % fy !== 0 || w % fx !== 0)
    throw new MllmError(`downsample: ${h}x${w} does not divide by ${fy}x${fx}`);
  if (fy === 1 && fx === 1) return pixels.clone();
  return tf.tidy(() => pixels.reshape([b, h / fy, fy, w / fx, fx, c]).mean([2, 4])) as tf.Tensor4D;
}
