import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { RegionHead, type CellPrediction } from '@mllm/training/internal';
import { compareTool, countTool, detectTool } from './builtin-tools';
import { objectsFromCells } from './detector';
import { ToolArgumentError, type ToolImage } from './vision-tool';

// A region head's reading of one image, worked by hand: a large red circle top left, a small
// blue square bottom right, a small red triangle bottom left, the top right cell empty.
// shape probabilities: circle, square, triangle, cross (the rest is "empty")
const shapes = (...p: number[]) => ({ circle: p[0]!, square: p[1]!, triangle: p[2]!, cross: p[3]! });
const cells: CellPrediction[] = [
  { cell: 'top left', shape: 'circle', color: 'red', size: 'large', confidence: 0.9, shapeProbabilities: shapes(0.9, 0.05, 0, 0) },
  { cell: 'top right', shape: undefined, color: 'green', size: 'small', confidence: 0.8, shapeProbabilities: shapes(0.1, 0, 0, 0.1) },
  { cell: 'bottom left', shape: 'triangle', color: 'red', size: 'small', confidence: 0.7, shapeProbabilities: shapes(0, 0, 0.7, 0.3) },
  { cell: 'bottom right', shape: 'square', color: 'blue', size: 'small', confidence: 0.95, shapeProbabilities: shapes(0, 0.95, 0, 0.05) },
];
const image: ToolImage = { objects: () => objectsFromCells(cells) };

describe('built-in vision tools on hand-worked region-head outputs', () => {
  it('objectsFromCells keeps the occupied cells only, with the attributes read there and the shape probabilities', () => {
    expect(objectsFromCells(cells)).toEqual([
      { shape: 'circle', color: 'red', size: 'large', cell: 'top left', confidence: 0.9, shapeProbabilities: cells[0]!.shapeProbabilities },
      { shape: 'triangle', color: 'red', size: 'small', cell: 'bottom left', confidence: 0.7, shapeProbabilities: cells[2]!.shapeProbabilities },
      { shape: 'square', color: 'blue', size: 'small', cell: 'bottom right', confidence: 0.95, shapeProbabilities: cells[3]!.shapeProbabilities },
    ]);
  });

  it('detect lists objects (all, or of a colour / shape) with size, colour, shape and cell', () => {
    const detect = detectTool();
    expect(detect.run([], image)).toBe('large red circle at the top left , small red triangle at the bottom left , small blue square at the bottom right');
    expect(detect.run(['red'], image)).toBe('large red circle at the top left , small red triangle at the bottom left');
    expect(detect.run(['blue', 'square'], image)).toBe('small blue square at the bottom right');
    expect(detect.run(['green'], image)).toBe('nothing');
  });

  it('count counts what the detector found, as a digit', () => {
    const count = countTool();
    expect(count.run([], image)).toBe('3');
    expect(count.run(['red'], image)).toBe('2');
    expect(count.run(['triangle'], image)).toBe('1');
    expect(count.run(['yellow', 'cross'], image)).toBe('0');
  });

  it('compare decides a relation by the cells the objects were detected in', () => {
    const compare = compareTool();
    expect(compare.run('red circle above blue square'.split(' '), image)).toBe('true');
    expect(compare.run('red circle left of blue square'.split(' '), image)).toBe('true');
    expect(compare.run('red triangle left of blue square'.split(' '), image)).toBe('true');
    expect(compare.run('red triangle above red circle'.split(' '), image)).toBe('false');
    // same column: neither left nor right of each other
    expect(compare.run('red circle left of red triangle'.split(' '), image)).toBe('false');
    expect(compare.run('blue square below red circle'.split(' '), image)).toBe('true');
  });

  it('bad arguments throw a ToolArgumentError that says what was wrong', () => {
    expect(() => countTool().run(['purple'], image)).toThrow(new ToolArgumentError('unreadable purple , arguments are [<colour>] [<shape>]'));
    expect(() => countTool().run(['circle', 'red'], image)).toThrow(ToolArgumentError);
    expect(() => compareTool().run(['red', 'circle'], image)).toThrow(/needs arguments <colour> <shape> <relation> <colour> <shape> , got red circle/);
    expect(() => compareTool().run('red circle near blue square'.split(' '), image)).toThrow(ToolArgumentError);
    expect(() => compareTool().run('red circle left of blue square now'.split(' '), image)).toThrow(ToolArgumentError);
    expect(() => compareTool().run('green cross left of blue square'.split(' '), image)).toThrow(new ToolArgumentError('no green cross found'));
  });
});

describe('RegionHead.predict', () => {
  it('reads each cell in CELLS order from the logits: shape (or empty), colour, size and the shape probability', () => {
    const head = new RegionHead(4, 4, new Rng(1));
    // weights 0: every cell's logits are the bias; shape logits [empty, circle, square, triangle, cross], colours, sizes
    const bias = [0, 3, 0, 0, 0, /* colour */ 0, 0, 2, 0, /* size */ 0, 1];
    head.classifier.weight.assign(tf.zerosLike(head.classifier.weight));
    head.classifier.bias!.assign(tf.tensor1d(bias));
    const tokens = tf.randomNormal([2, 4, 4]) as tf.Tensor3D;
    const read = head.predict(tokens);
    tokens.dispose();
    expect(read).toHaveLength(2);
    expect(read[0]!.map((c) => c.cell)).toEqual(['top left', 'top right', 'bottom left', 'bottom right']);
    const expected = Math.exp(3) / (Math.exp(3) + 4);
    for (const c of read.flat()) {
      expect(c).toMatchObject({ shape: 'circle', color: 'blue', size: 'large' });
      expect(c.confidence).toBeCloseTo(expected, 5);
    }
    head.classifier.bias!.assign(tf.tensor1d([5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    const empty = tf.zeros([1, 4, 4]) as tf.Tensor3D;
    expect(objectsFromCells(head.predict(empty)[0]!)).toEqual([]);
    empty.dispose();
  });
});
