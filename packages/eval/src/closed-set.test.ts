import { describe, expect, it } from 'vitest';
import { closedSetAccuracy, isCorrect } from './closed-set';

describe('isCorrect', () => {
  it('compares normalised full answers', () => {
    expect(isCorrect('two', 'two .')).toBe(true);
    expect(isCorrect('top left', 'Top left.')).toBe(true);
    expect(isCorrect('yes', 'Yes, there is a red circle.')).toBe(true);
    expect(isCorrect('two', 'three')).toBe(false);
    expect(isCorrect('red', 'red circle')).toBe(false);
  });
});

describe('closedSetAccuracy', () => {
  it('scores overall and per type', () => {
    const r = closedSetAccuracy([
      { type: 'existence', answer: 'yes', prediction: 'Yes.' }, // right
      { type: 'existence', answer: 'no', prediction: 'yes' }, // wrong
      { type: 'color', answer: 'red', prediction: 'red' }, // right
      { type: 'count', answer: 'two', prediction: 'two .' }, // right
      { type: 'count', answer: 'three', prediction: 'two' }, // wrong
      { type: 'count', answer: 'one', prediction: '' }, // wrong
    ]);
    expect(r.n).toBe(6);
    expect(r.accuracy).toBeCloseTo(3 / 6, 12);
    expect(Object.keys(r.byType)).toEqual(['existence', 'color', 'count']);
    expect(r.byType.existence).toEqual({ accuracy: 0.5, n: 2 });
    expect(r.byType.color).toEqual({ accuracy: 1, n: 1 });
    expect(r.byType.count!.accuracy).toBeCloseTo(1 / 3, 12);
    expect(r.byType.count!.n).toBe(3);
  });

  it('returns accuracy 0 and no types for an empty set', () => {
    expect(closedSetAccuracy([])).toEqual({ accuracy: 0, byType: {}, n: 0 });
  });
});
