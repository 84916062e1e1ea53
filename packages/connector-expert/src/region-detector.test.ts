import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { REGION_LOGITS, RegionDetector } from './region-detector';
import { renderExpertText } from './expert-text';

/**
 * A 2 x 2 grid of one 3-wide token per cell. After the LayerNorm, token A = [1, 0, 0] reads
 * [1.41, -0.71, -0.71], B = [0, 1, 0] and C = [0, 0, 1] likewise. Each class row of the
 * classifier is 2 * e_j for the token it answers to (0 for the rest): A is a large green circle,
 * B a small blue square, C an empty cell.
 */
function handSetDetector(): RegionDetector {
  const detector = new RegionDetector(3, 4, new Rng(0));
  const e = (j: number) => [0, 1, 2].map((k) => (k === j ? 2 : 0));
  const zero = [0, 0, 0];
  const rows = [
    e(2), e(0), e(1), zero, zero, // shape: empty (C), circle (A), square (B), triangle, cross
    zero, e(0), e(1), zero, // colour: red, green (A), blue (B), yellow
    e(1), e(0), // size: small (B), large (A)
  ];
  expect(rows).toHaveLength(REGION_LOGITS);
  detector.classifier.weight.assign(tf.tensor2d(rows));
  detector.classifier.bias!.assign(tf.zeros([REGION_LOGITS]));
  return detector;
}

const [A, B, C] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];

describe('RegionDetector', () => {
  it('finds the hand-worked objects cell by cell in raster order, and nothing in an empty cell', () => {
    const detector = handSetDetector();
    const tokens = tf.tensor3d([[A, C, B, A], [C, C, C, B]]); // [2 images, 4 cells, 3]
    const found = detector.detect(tokens);
    expect(found).toEqual([
      [
        { cell: 'top left', shape: 'circle', color: 'green', size: 'large' },
        { cell: 'bottom left', shape: 'square', color: 'blue', size: 'small' },
        { cell: 'bottom right', shape: 'circle', color: 'green', size: 'large' },
      ],
      [{ cell: 'bottom right', shape: 'square', color: 'blue', size: 'small' }],
    ]);
    expect(found.map(renderExpertText)).toEqual([
      'a large green circle at the top left and a small blue square at the bottom left and a large green circle at the bottom right .',
      'a small blue square at the bottom right .',
    ]);
    tokens.dispose();
    detector.dispose();
  });

  it('reads a cell as the concatenation of its tokens on a larger grid, and leaks no tensors', () => {
    const detector = new RegionDetector(2, 16, new Rng(1)); // 4 x 4 grid: each cell 2 x 2 tokens
    const tokens = tf.randomNormal([3, 16, 2]) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    const logits = detector.cellLogits(tokens);
    expect(logits.shape).toEqual([12, REGION_LOGITS]);
    // cell "top right" of image 1: tokens (0,2), (0,3), (1,2), (1,3) of the 4 x 4 grid, normalised, concatenated
    const normed = tf.tidy(() => detector.norm.forward(tokens).arraySync()) as number[][][];
    const cell = [2, 3, 6, 7].flatMap((t) => normed[1]![t]!);
    const expected = tf.tidy(() => detector.classifier.forward(tf.tensor2d([cell])).arraySync()[0]!);
    const got = logits.arraySync()[1 * 4 + 1]!;
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
    logits.dispose();
    detector.detect(tokens);
    expect(tf.memory().numTensors).toBe(before);
    tokens.dispose();
    detector.dispose();
  });

  it('refuses a token count that is not a square grid with an even side', () => {
    expect(() => new RegionDetector(4, 5, new Rng(0))).toThrow(/square patch grid with an even side/);
    expect(() => new RegionDetector(4, 9, new Rng(0))).toThrow(/square patch grid with an even side/);
  });
});
