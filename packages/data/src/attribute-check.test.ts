import { describe, expect, it } from 'vitest';
import { attributeCheck } from './attribute-check';
import { caption, detailedDescription } from './language';
import type { Scene } from './scene';

const scene: Scene = {
  id: 's',
  objects: [
    { shape: 'circle', color: 'red', size: 'large', cell: 'top left', x: 8, y: 8 },
    { shape: 'square', color: 'blue', size: 'small', cell: 'bottom right', x: 24, y: 24 },
  ],
};
const all = (correct: number, total: number) => ({ correct, total });

describe('attributeCheck', () => {
  it('scores the ground-truth caption and description right on every attribute', () => {
    for (const text of [caption(scene), detailedDescription(scene)])
      expect(attributeCheck(scene, text)).toEqual({ shape: all(2, 2), color: all(2, 2), size: all(2, 2), position: all(2, 2), count: all(1, 1) });
  });

  it('charges one wrong word to its own attribute only (hand-worked)', () => {
    // colour of the circle wrong; size of the square wrong
    expect(attributeCheck(scene, 'a large green circle at the top left and a large blue square at the bottom right .')).toEqual({
      shape: all(2, 2),
      color: all(1, 2),
      size: all(1, 2),
      position: all(1, 1), // only the square is recognised by colour + shape, at its cell
      count: all(1, 1),
    });
  });

  it('charges a swapped position to position, and the objects at those cells to their attributes', () => {
    // both objects named, each at the other's cell; three objects counted
    const text = 'there are three objects in the image . a small blue square is at the top left . a large red circle is at the bottom right .';
    expect(attributeCheck(scene, text)).toEqual({ shape: all(0, 2), color: all(0, 2), size: all(0, 2), position: all(0, 2), count: all(0, 1) });
  });

  it('counts a missed object as lost on shape, colour and size, not on position', () => {
    expect(attributeCheck(scene, 'a large red circle at the top left .')).toEqual({ shape: all(1, 2), color: all(1, 2), size: all(1, 2), position: all(1, 1), count: all(0, 1) });
  });
});
