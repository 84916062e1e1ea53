import { describe, expect, it } from 'vitest';
import { attributeChair, attributeClaims, checkAttributeClaim } from './attribute-chair';

// a small red circle at the top left, a large blue square at the bottom right
const scene = {
  objects: [
    { shape: 'circle', color: 'red', size: 'small', cell: 'top left' },
    { shape: 'square', color: 'blue', size: 'large', cell: 'bottom right' },
  ],
};

describe('attribute CHAIR', () => {
  it('reads size and cell around each mention, in the Shapes phrasing and in free-form text', () => {
    expect(attributeClaims('a small red circle is at the top left .')).toEqual([{ color: 'red', shape: 'circle', size: 'small', cell: 'top left' }]);
    expect(attributeClaims('There are two Blue Squares in the bottom right corner and a circle.')).toEqual([{ color: 'blue', shape: 'square', cell: 'bottom right' }]);
    expect(attributeClaims('a large red circle and a cross')).toEqual([{ color: 'red', shape: 'circle', size: 'large' }]);
    // "the top left" with no at / in / on is not a stated position
    expect(attributeClaims('red circle the top left')).toEqual([{ color: 'red', shape: 'circle' }]);
  });

  it('judges each stated attribute against the objects the mention can refer to', () => {
    expect(checkAttributeClaim({ color: 'red', shape: 'circle', size: 'small', cell: 'top left' }, scene)).toEqual({ color: false, size: false, position: false });
    expect(checkAttributeClaim({ color: 'red', shape: 'circle', size: 'large' }, scene)).toEqual({ color: false, size: true });
    expect(checkAttributeClaim({ color: 'red', shape: 'circle', cell: 'bottom left' }, scene)).toEqual({ color: false, position: true });
    // a circle is there, but not a green one: a colour error; size and place of a green circle cannot be judged
    expect(checkAttributeClaim({ color: 'green', shape: 'circle', size: 'small', cell: 'top left' }, scene)).toEqual({ color: true });
    // no triangle at all: CHAIR_i's object hallucination, no attribute verdict
    expect(checkAttributeClaim({ color: 'red', shape: 'triangle', size: 'small' }, scene)).toEqual({});
  });

  it('prefers the object at the stated cell as the referent of colour and size', () => {
    const two = { objects: [{ shape: 'circle', color: 'red', size: 'small', cell: 'top left' }, { shape: 'circle', color: 'blue', size: 'large', cell: 'top right' }] };
    // "red circle at the top right": the circle there is blue -> colour wrong; position of the red circle wrong too
    expect(checkAttributeClaim({ color: 'red', shape: 'circle', cell: 'top right' }, two)).toEqual({ color: true, position: true });
    expect(checkAttributeClaim({ color: 'blue', shape: 'circle', size: 'large', cell: 'top right' }, two)).toEqual({ color: false, size: false, position: false });
  });

  it('rates per kind over a set, hand-counted', () => {
    const result = attributeChair([
      { caption: 'a large red circle is at the top left . a large blue square is at the bottom right .', scene }, // size wrong once of 2
      { caption: 'a green circle at the bottom right .', scene }, // colour wrong; nothing else judged
      { caption: 'a small yellow cross .', scene }, // absent: nothing judged
    ]);
    expect(result.stated).toEqual({ color: 3, size: 2, position: 2 });
    expect(result.wrong).toEqual({ color: 1, size: 1, position: 0 });
    expect(result.byAttribute).toEqual({ color: 1 / 3, size: 0.5, position: 0 });
    expect(attributeChair([]).byAttribute).toEqual({ color: 0, size: 0, position: 0 });
  });
});
