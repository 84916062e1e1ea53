import * as tf from '@tensorflow/tfjs';
import { CELLS, COLORS, SHAPES, SIZES, type Cell, type Color, type Scene, type Shape, type Size, cellTokenGrid } from '@mllm/data';
import { LayerNorm, Linear, Module, maskedCrossEntropy, type Rng } from '@mllm/core';

const SHAPE_CLASSES = SHAPES.length + 1; // + "empty"
const LOGITS = SHAPE_CLASSES + COLORS.length + SIZES.length;

/**
 * Dense object-and-attribute supervision for encoder pre-training, in the spirit of the
 * detector features early VLMs used (Anderson et al., "Bottom-Up and Top-Down Attention",
 * arXiv:1707.07998: regions trained to name their object and attributes). Each Shapes-world
 * cell averages the encoder tokens over its quarter of the patch grid and predicts what is
 * there: shape or empty, and for occupied cells colour and size.
 *
 * Why next to CLIP's loss: a contrastive loss over whole captions lets the text tower stop
 * telling shapes apart as soon as the images do not (a near-miss twin then costs log 2 for
 * ever), and measured here it never learns shape; this loss gives every patch token a
 * gradient towards the object under it. Shapes: B batch, N = G*G tokens, D width.
 */
/** One cell as the region head reads it. */
export interface CellPrediction {
  cell: Cell;
  /** undefined: the head reads the cell as empty. */
  shape?: Shape;
  color: Color;
  size: Size;
  /** Probability of the shape call (or of "empty"). */
  confidence: number;
  /** Probability of each shape at this cell (the rest is "empty"): what a verifier asks when an answer names another shape there. */
  shapeProbabilities: Readonly<Record<Shape, number>>;
}

export class RegionHead extends Module {
  readonly norm: LayerNorm;
  readonly classifier: Linear;
  /** Side of the token grid, G. */
  readonly grid: number;

  constructor(readonly dim: number, numTokens: number, rng: Rng) {
    super();
    this.grid = cellTokenGrid(numTokens, 'the regions objective');
    this.norm = this.add('norm', new LayerNorm(dim));
    // A cell's tokens are concatenated, not averaged: where in the cell a feature sits is
    // part of what makes a triangle a triangle.
    this.classifier = this.add('classifier', new Linear((numTokens / 4) * dim, LOGITS, rng));
  }

  /**
   * What the head reads in each cell of each image, in CELLS order: the most likely shape
   * (undefined: empty) with its colour and size, and the probability of the shape call.
   */
  predict(tokens: tf.Tensor3D): CellPrediction[][] {
    const [b] = tokens.shape;
    const probs = tf.tidy(() => {
      const logits = this.classifier.forward(this.cells(tokens));
      const part = (from: number, size: number) => tf.softmax(logits.slice([0, from], [-1, size]));
      return tf.concat([part(0, SHAPE_CLASSES), part(SHAPE_CLASSES, COLORS.length), part(SHAPE_CLASSES + COLORS.length, SIZES.length)], 1);
    });
    const rows = probs.arraySync() as number[][];
    probs.dispose();
    const argmax = (xs: number[]) => xs.indexOf(Math.max(...xs));
    return Array.from({ length: b }, (_, i) =>
      CELLS.map((cell, c) => {
        const row = rows[i * 4 + c]!;
        const shape = argmax(row.slice(0, SHAPE_CLASSES));
        return {
          cell,
          shape: shape === 0 ? undefined : SHAPES[shape - 1],
          color: COLORS[argmax(row.slice(SHAPE_CLASSES, SHAPE_CLASSES + COLORS.length))]!,
          size: SIZES[argmax(row.slice(SHAPE_CLASSES + COLORS.length))]!,
          confidence: row[shape]!,
          shapeProbabilities: Object.fromEntries(SHAPES.map((s, k) => [s, row[k + 1]!])) as Record<Shape, number>,
        };
      }),
    );
  }

  /** Tokens [B, N, D] -> one row per cell [B * 4, (N / 4) * D], in CELLS order. */
  private cells(tokens: tf.Tensor3D): tf.Tensor2D {
    const [b, n, d] = tokens.shape;
    if (n !== this.grid * this.grid || d !== this.dim) throw new Error(`RegionHead: expected tokens [B, ${this.grid * this.grid}, ${this.dim}], got [${tokens.shape}]`);
    const h = this.grid / 2;
    // [B, row, G/2, col, G/2, D] -> [B, row, col, G/2, G/2, D] -> one row per cell, in CELLS order.
    return this.norm.forward(tokens).reshape([b, 2, h, 2, h, d]).transpose([0, 1, 3, 2, 4, 5]).reshape([b * 4, h * h * d]) as tf.Tensor2D;
  }

  /** Cross-entropy of shape (all cells) plus colour and size (occupied cells) for tokens [B, N, D]. */
  loss(tokens: tf.Tensor3D, scenes: readonly Scene[]): tf.Scalar {
    const [b, n, d] = tokens.shape;
    if (n !== this.grid * this.grid || d !== this.dim) throw new Error(`RegionHead.loss: expected tokens [B, ${this.grid * this.grid}, ${this.dim}], got [${tokens.shape}]`);
    if (scenes.length !== b) throw new Error(`RegionHead.loss: ${scenes.length} scenes for a batch of ${b}`);
    const labels = scenes.flatMap((scene) =>
      CELLS.map((cell) => {
        const o = scene.objects.find((x) => x.cell === cell);
        return o ? { shape: 1 + SHAPES.indexOf(o.shape), color: COLORS.indexOf(o.color), size: SIZES.indexOf(o.size), occupied: 1 } : { shape: 0, color: 0, size: 0, occupied: 0 };
      }),
    );
    return tf.tidy(() => {
      const h = this.grid / 2;
      // [B, row, G/2, col, G/2, D] -> [B, row, col, G/2, G/2, D] -> one row per cell, in CELLS order.
      const cells = this.norm.forward(tokens).reshape([b, 2, h, 2, h, d]).transpose([0, 1, 3, 2, 4, 5]).reshape([b * 4, h * h * d]) as tf.Tensor2D;
      const logits = this.classifier.forward(cells);
      const part = (from: number, size: number) => logits.slice([0, from], [-1, size]) as tf.Tensor2D;
      const targets = (key: 'shape' | 'color' | 'size') => tf.tensor1d(labels.map((l) => l[key]), 'int32');
      const all = tf.ones([labels.length]) as tf.Tensor1D;
      const occupied = tf.tensor1d(labels.map((l) => l.occupied)) as tf.Tensor1D;
      return maskedCrossEntropy(part(0, SHAPE_CLASSES), targets('shape'), all)
        .add(maskedCrossEntropy(part(SHAPE_CLASSES, COLORS.length), targets('color'), occupied))
        .add(maskedCrossEntropy(part(SHAPE_CLASSES + COLORS.length, SIZES.length), targets('size'), occupied)) as tf.Scalar;
    });
  }
}
