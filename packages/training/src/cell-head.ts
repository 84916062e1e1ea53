import * as tf from '@tensorflow/tfjs';
import { CELLS, cellTokenGrid } from '@mllm/data';
import { LayerNorm, Linear, Module, maskedCrossEntropy, type Rng } from '@mllm/core';

/**
 * Encoder pre-training objective `cells`: every patch token names the grid cell it lies in.
 *
 * Why: the `regions` objective classifies each cell's tokens with one classifier shared by all
 * four cells, so nothing asks a token where it is; at 32 px with 16-px patches a token is a
 * whole cell, and its position embedding (initialised at std 0.02 beside patch features of
 * std ~1) is all that could tell the cells apart. The LLM's rotary positions are relative, so
 * the value it reads from the token that holds "the red circle" says what is there, not
 * where: spatial questions stay at chance. This head makes the cell readable from every token
 * (a linear read-out, as the LLM's attention values are). Shapes: B batch, N = G*G tokens, D width.
 */
export class CellHead extends Module {
  readonly norm: LayerNorm;
  readonly classifier: Linear;
  /** Side of the token grid, G. */
  readonly grid: number;

  constructor(readonly dim: number, numTokens: number, rng: Rng) {
    super();
    this.grid = cellTokenGrid(numTokens, 'the cells objective');
    this.norm = this.add('norm', new LayerNorm(dim));
    this.classifier = this.add('classifier', new Linear(dim, CELLS.length, rng));
  }

  /** The cell index (in CELLS order) of each token of a G x G grid, row-major. */
  cellLabels(): number[] {
    const g = this.grid;
    return Array.from({ length: g * g }, (_, i) => (Math.floor(i / g) < g / 2 ? 0 : 2) + (i % g < g / 2 ? 0 : 1));
  }

  /** Cross-entropy of each token's cell for tokens [B, N, D]. */
  loss(tokens: tf.Tensor3D): tf.Scalar {
    const [b, n, d] = tokens.shape;
    if (n !== this.grid * this.grid || d !== this.dim) throw new Error(`CellHead.loss: expected tokens [B, ${this.grid * this.grid}, ${this.dim}], got [${tokens.shape}]`);
    const labels = Array.from({ length: b }, () => this.cellLabels()).flat();
    return tf.tidy(() => {
      const logits = this.classifier.forward(this.norm.forward(tokens).reshape([b * n, d]) as tf.Tensor2D); // [B*N, 4]
      return maskedCrossEntropy(logits, tf.tensor1d(labels, 'int32'), tf.ones([b * n]) as tf.Tensor1D);
    });
  }
}
