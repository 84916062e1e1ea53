import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@mllm/core';
import { checkGradients, checkParameterGradients } from '@mllm/core/testing';
import type { Scene } from '@mllm/data';
import { RegionHead } from './region-head';
import { layerNormAtInit, linearReadout, nll, softmax } from './hand-readout.test-helper';

const obj = (cell: Scene['objects'][number]['cell'], shape: Scene['objects'][number]['shape'], color: Scene['objects'][number]['color'], size: Scene['objects'][number]['size']) => ({ cell, shape, color, size, x: 0, y: 0 });
const scenes: Scene[] = [
  { id: 'a', objects: [obj('top left', 'triangle', 'blue', 'large'), obj('bottom right', 'cross', 'red', 'small')] },
  { id: 'b', objects: [obj('top right', 'circle', 'yellow', 'small')] },
];

/** The head's logits for every (image, cell), in CELLS order, computed by hand from the tokens of a 4 x 4 grid. */
function handLogits(head: RegionHead, tokens: tf.Tensor3D): number[][][] {
  const x = tokens.arraySync();
  const w = head.classifier.weight.arraySync() as number[][];
  const bias = head.classifier.bias!.arraySync() as number[];
  const cellOrigins = [[0, 0], [0, 2], [2, 0], [2, 2]]; // (row, column) of each cell's first token, CELLS order
  return x.map((image) =>
    cellOrigins.map(([r0, c0]) => {
      const features: number[] = [];
      for (const r of [r0!, r0! + 1]) for (const c of [c0!, c0! + 1]) features.push(...layerNormAtInit(image[r * 4 + c]!));
      return linearReadout(w, bias, features);
    }),
  );
}

describe('RegionHead', () => {
  it('equals a per-cell cross-entropy computed by hand from the cell tokens', () => {
    const d = 3;
    const head = new RegionHead(d, 16, new Rng(1));
    const tokens = tf.randomNormal([2, 16, d], 0, 1, 'float32', 2) as tf.Tensor3D;
    const got = head.loss(tokens, scenes).dataSync()[0]!;

    const logits = handLogits(head, tokens);
    const shapeIds = { circle: 1, square: 2, triangle: 3, cross: 4 } as const;
    const colorIds = { red: 0, green: 1, blue: 2, yellow: 3 } as const;
    let shapeLoss = 0, attrLoss = 0, occupied = 0;
    scenes.forEach((scene, b) => {
      logits[b]!.forEach((cellLogits, cell) => {
        const o = scene.objects.find((p) => p.cell === ['top left', 'top right', 'bottom left', 'bottom right'][cell]);
        shapeLoss += nll(cellLogits.slice(0, 5), o ? shapeIds[o.shape] : 0);
        if (o) {
          occupied++;
          attrLoss += nll(cellLogits.slice(5, 9), colorIds[o.color]) + nll(cellLogits.slice(9, 11), o.size === 'small' ? 0 : 1);
        }
      });
    });
    expect(got).toBeCloseTo(shapeLoss / 8 + attrLoss / occupied, 4);
  });

  it('has the right gradients for its parameters and the encoder tokens', () => {
    const head = new RegionHead(4, 4, new Rng(3));
    const tokens = tf.randomNormal([2, 4, 4], 0, 1, 'float32', 4);
    const f = () => head.loss(tokens as tf.Tensor3D, scenes);
    expect(checkParameterGradients(f, head.namedParameters().map(([, p]) => p)).maxRelError).toBeLessThan(2e-2);
    expect(checkGradients((t) => head.loss(t as tf.Tensor3D, scenes), [tokens]).maxRelError).toBeLessThan(2e-2);
  });

  it('predicts per cell the shape softmax: the call, its probability, and every shape with the rest on "empty"', () => {
    const head = new RegionHead(3, 16, new Rng(5));
    const tokens = tf.randomNormal([2, 16, 3], 0, 1, 'float32', 6) as tf.Tensor3D;
    const predictions = head.predict(tokens).flat();
    const probabilities = handLogits(head, tokens).flat().map((cell) => softmax(cell.slice(0, 5)));
    expect(predictions).toHaveLength(8);
    predictions.forEach((p, i) => {
      const [empty, ...shapes] = probabilities[i]!;
      expect(Object.values(p.shapeProbabilities)).toHaveLength(4);
      Object.values(p.shapeProbabilities).forEach((v, k) => expect(v).toBeCloseTo(shapes[k]!, 6));
      expect(p.confidence).toBeCloseTo(Math.max(empty!, ...shapes), 6);
      expect(p.shape === undefined ? empty : p.shapeProbabilities[p.shape]).toBeCloseTo(p.confidence, 6);
    });
  });

  it('refuses a token grid that cannot be cut into 2 x 2 cells', () => {
    expect(() => new RegionHead(4, 9, new Rng(1))).toThrow(/even side.*got 9 tokens/);
    expect(() => new RegionHead(4, 17, new Rng(1))).toThrow(/no CLS token/);
  });
});
