import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@mllm/core';
import { checkGradients } from '@mllm/core/testing';
import { CellHead } from './cell-head';
import { layerNormAtInit, linearReadout, nll } from './hand-readout.test-helper';

describe('CellHead', () => {
  it('labels each token of the grid with its cell, in CELLS order', () => {
    expect(new CellHead(4, 4, new Rng(1)).cellLabels()).toEqual([0, 1, 2, 3]);
    // a 4 x 4 grid: each cell is a 2 x 2 block of tokens
    expect(new CellHead(4, 16, new Rng(1)).cellLabels()).toEqual([0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3]);
  });

  it('equals the mean per-token cross-entropy of the cell computed by hand', () => {
    const d = 3;
    const head = new CellHead(d, 4, new Rng(2));
    const tokens = tf.randomNormal([2, 4, d], 0, 1, 'float32', 5) as tf.Tensor3D;
    const got = head.loss(tokens).dataSync()[0]!;
    const x = tokens.arraySync();
    const w = head.classifier.weight.arraySync() as number[][];
    const bias = head.classifier.bias!.arraySync() as number[];
    let total = 0;
    for (let b = 0; b < 2; b++) for (let t = 0; t < 4; t++) total += nll(linearReadout(w, bias, layerNormAtInit(x[b]![t]!)), t);
    expect(got).toBeCloseTo(total / 8, 4);
  });

  it('passes a gradient to the tokens, and refuses a grid without 2 x 2 cells', () => {
    const head = new CellHead(4, 4, new Rng(3));
    const tokens = tf.randomNormal([2, 4, 4], 0, 1, 'float32', 4);
    expect(checkGradients((t) => head.loss(t as tf.Tensor3D), [tokens]).maxRelError).toBeLessThan(2e-2);
    expect(() => new CellHead(4, 9, new Rng(1))).toThrow(/even side.*got 9 tokens/);
    expect(() => head.loss(tf.zeros([1, 5, 4]) as tf.Tensor3D)).toThrow(/expected tokens \[B, 4, 4\]/);
  });
});
