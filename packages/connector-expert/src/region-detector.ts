import * as tf from '@tensorflow/tfjs';
import { CELLS, COLORS, SHAPES, SIZES, cellTokenGrid } from '@mllm/data';
import { LayerNorm, Linear, Module, type Rng } from '@mllm/core';
import type { RegionDetection } from './expert-text';

/** Logits per cell: shape or "empty" first (index 0 is empty), then colour, then size. */
export const SHAPE_CLASSES = SHAPES.length + 1;
export const REGION_LOGITS = SHAPE_CLASSES + COLORS.length + SIZES.length;

/**
 * A detector over the Shapes world's 2 x 2 cells: each cell's patch tokens, concatenated, name
 * the object there (shape or empty, colour, size). It is @mllm/training's RegionHead without its
 * loss, with the same parameter names and logit layout, so the head the `regions` objective
 * trains loads into it as it is (Anderson et al., arXiv:1707.07998: regions that name their
 * object and attributes). Shapes: B batch, N = G*G tokens, D width.
 */
export class RegionDetector extends Module {
  readonly norm: LayerNorm;
  readonly classifier: Linear;
  /** Side of the token grid, G. */
  readonly grid: number;

  constructor(readonly dim: number, numTokens: number, rng: Rng) {
    super();
    this.grid = cellTokenGrid(numTokens, 'a region detector');
    this.norm = this.add('norm', new LayerNorm(dim));
    this.classifier = this.add('classifier', new Linear((numTokens / 4) * dim, REGION_LOGITS, rng));
  }

  /** tokens [B, N, D] -> logits [B*4, REGION_LOGITS], one row per cell, images in order and cells in CELLS order. */
  cellLogits(tokens: tf.Tensor3D): tf.Tensor2D {
    const [b, n, d] = tokens.shape;
    if (n !== this.grid * this.grid || d !== this.dim) throw new Error(`RegionDetector: expected tokens [B, ${this.grid * this.grid}, ${this.dim}], got [${tokens.shape}]`);
    return tf.tidy(() => {
      const h = this.grid / 2;
      // [B, row, G/2, col, G/2, D] -> [B, row, col, G/2, G/2, D] -> one row per cell
      const cells = this.norm.forward(tokens).reshape([b, 2, h, 2, h, d]).transpose([0, 1, 3, 2, 4, 5]).reshape([b * 4, h * h * d]) as tf.Tensor2D;
      return this.classifier.forward(cells); // [B*4, REGION_LOGITS]
    });
  }

  /** Each image's objects: per cell the most likely shape (none when "empty" wins), colour and size. */
  detect(tokens: tf.Tensor3D): RegionDetection[][] {
    const logits = this.cellLogits(tokens);
    const rows = logits.arraySync();
    logits.dispose();
    const argmax = (row: number[], from: number, size: number) => {
      let best = from;
      for (let i = from + 1; i < from + size; i++) if (row[i]! > row[best]!) best = i;
      return best - from;
    };
    const images: RegionDetection[][] = [];
    for (let i = 0; i < rows.length / CELLS.length; i++) {
      const found: RegionDetection[] = [];
      CELLS.forEach((cell, c) => {
        const row = rows[i * CELLS.length + c]!;
        const shape = argmax(row, 0, SHAPE_CLASSES);
        if (shape === 0) return; // empty
        found.push({ cell, shape: SHAPES[shape - 1]!, color: COLORS[argmax(row, SHAPE_CLASSES, COLORS.length)]!, size: SIZES[argmax(row, SHAPE_CLASSES + COLORS.length, SIZES.length)]! });
      });
      images.push(found);
    }
    return images;
  }
}
