import { describe, expect, it } from 'vitest';
import { atomicFacts, factText, faithScore, verifyFact } from './faith-score';

const scene = {
  objects: [
    { shape: 'circle', color: 'red', size: 'small', cell: 'top left' },
    { shape: 'square', color: 'blue', size: 'large', cell: 'bottom right' },
  ],
};
// the Shapes world's own detailed description of that scene
const faithful = 'there are two objects in the image . a small red circle is at the top left . a large blue square is at the bottom right . the small red circle is left of the large blue square .';

describe('FaithScore', () => {
  it('splits a description into atomic facts of each kind', () => {
    expect(atomicFacts(faithful).map(factText)).toEqual([
      'there are two objects',
      'there is a red circle',
      'the red circle is small',
      'the red circle is at the top left',
      'there is a blue square',
      'the blue square is large',
      'the blue square is at the bottom right',
      'there is a red circle',
      'the red circle is small',
      'there is a blue square',
      'the blue square is large',
      'the red circle is left of the blue square',
    ]);
    expect(atomicFacts('It is the only object. Two Red Circles!').map(factText)).toEqual(['there is one object', 'there is a red circle', 'there are two red circles']);
  });

  it('verifies every fact of a faithful description, and scores 1', () => {
    const r = faithScore([{ text: faithful, scene }]);
    expect(r.score).toBe(1);
    expect(r.facts).toBe(12);
    expect(r.factsByKind).toEqual({ object: 4, attribute: 6, relation: 1, count: 1 });
  });

  it('catches each kind of error, hand-counted', () => {
    expect(verifyFact({ kind: 'object', color: 'green', shape: 'circle' }, scene)).toBe(false);
    expect(verifyFact({ kind: 'attribute', color: 'red', shape: 'circle', size: 'large' }, scene)).toBe(false);
    expect(verifyFact({ kind: 'attribute', color: 'red', shape: 'circle', cell: 'bottom left' }, scene)).toBe(false);
    expect(verifyFact({ kind: 'relation', subject: { color: 'red', shape: 'circle' }, relation: 'below', object: { color: 'blue', shape: 'square' } }, scene)).toBe(false);
    expect(verifyFact({ kind: 'relation', subject: { color: 'red', shape: 'circle' }, relation: 'above', object: { color: 'blue', shape: 'square' } }, scene)).toBe(true);
    expect(verifyFact({ kind: 'count', count: 3 }, scene)).toBe(false);
    // 'there are three objects' (wrong), 'a large red circle' (object right, size wrong), 'a green cross' (object wrong)
    const r = faithScore([{ text: 'there are three objects . a large red circle . a green cross .', scene }]);
    expect(r.factsByKind).toEqual({ object: 2, attribute: 1, relation: 0, count: 1 });
    expect(r.byKind).toEqual({ object: 0.5, attribute: 0, relation: 0, count: 0 });
    expect(r.score).toBe(1 / 4);
  });

  it('counts texts that state nothing checkable, and scores an empty set 0', () => {
    const r = faithScore([{ text: 'I cannot tell .', scene }, { text: 'a red circle', scene }]);
    expect(r.textsWithoutFacts).toBe(1);
    expect(r.score).toBe(1);
    expect(faithScore([]).score).toBe(0);
  });
});
