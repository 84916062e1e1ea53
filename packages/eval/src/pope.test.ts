import { describe, expect, it } from 'vitest';
import { popeMetrics, popeReading } from './pope';

describe('popeMetrics', () => {
  it('computes the confusion-matrix metrics with yes as positive', () => {
    // TP: 2 (items 1, 2), FP: 1 (item 3), FN: 1 (item 4), TN: 1 (item 5).
    const m = popeMetrics([
      { label: 'yes', prediction: 'Yes, there is.' },
      { label: 'yes', prediction: 'yes' },
      { label: 'no', prediction: 'Yes' },
      { label: 'yes', prediction: 'No.' },
      { label: 'no', prediction: 'not in the image' },
    ]);
    expect(m.n).toBe(5);
    expect(m.accuracy).toBeCloseTo(3 / 5, 12);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    expect(m.yesRatio).toBeCloseTo(3 / 5, 12);
    expect(m.other).toBe(0);
  });

  it('scores replies that are neither yes nor no as yes, as the reference scorer does, and counts them', () => {
    // "a red circle" on a yes item is a TP; on a no item a FP; "no" on the yes item a FN.
    const m = popeMetrics([
      { label: 'yes', prediction: 'a red circle' },
      { label: 'no', prediction: 'a red circle' },
      { label: 'yes', prediction: 'no' },
      { label: 'no', prediction: 'no' },
    ]);
    expect(m.other).toBe(2);
    expect(m.accuracy).toBeCloseTo(0.5, 12);
    expect(m.precision).toBeCloseTo(0.5, 12);
    expect(m.recall).toBeCloseTo(0.5, 12);
    expect(m.f1).toBeCloseTo(0.5, 12);
    expect(m.yesRatio).toBeCloseTo(0.5, 12);
  });

  it('gives precision, recall and F1 of 0 rather than NaN with no yes predictions', () => {
    const m = popeMetrics([
      { label: 'yes', prediction: 'no' },
      { label: 'no', prediction: 'no' },
    ]);
    expect(m).toEqual({ accuracy: 0.5, precision: 0, recall: 0, f1: 0, yesRatio: 0, n: 2, other: 0 });
  });

  it('returns zeros for an empty set', () => {
    expect(popeMetrics([])).toEqual({ accuracy: 0, precision: 0, recall: 0, f1: 0, yesRatio: 0, n: 0, other: 0 });
  });

  it('an always-yes answerer on a balanced set: accuracy 0.5, recall 1, yesRatio 1', () => {
    const m = popeMetrics([
      { label: 'yes', prediction: 'yes' },
      { label: 'no', prediction: 'yes' },
      { label: 'yes', prediction: 'yes' },
      { label: 'no', prediction: 'yes' },
    ]);
    expect(m.accuracy).toBe(0.5);
    expect(m.precision).toBe(0.5);
    expect(m.recall).toBe(1);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    expect(m.yesRatio).toBe(1);
  });
});

describe('popeReading: the reference scorer (POPE evaluate.py, LLaVA eval_pope.py)', () => {
  // Each case worked by hand through the reference's steps: first sentence, commas removed, split on ' ', look for No / no / not.
  it.each([
    ['yes', 'yes'],
    ['no', 'no'],
    ['no .', 'no'], // "no " -> ['no', '']
    ['Yes, there is a red circle in the image.', 'yes'],
    ['No, there is not.', 'no'],
    ['There is no red circle.', 'no'], // "no" anywhere in the first sentence
    ['The image does not show one.', 'no'],
    ['Yes. There is no blue square.', 'yes'], // only the first sentence counts
    ['a red circle', 'yes'], // neither: yes
    ['I cannot tell', 'yes'],
    ['', 'yes'],
    ['NO', 'yes'], // case-sensitive: only "No" and "no"
    ['No!', 'yes'], // "No!" is not the word "No"
    ['Not at all', 'yes'], // "Not" is not "not"
    ['no,', 'no'], // commas are removed before splitting
    ['nothing is there', 'yes'], // whole words only
    ['No\tthere is none', 'yes'], // split on ' ' only: "No\tthere" is one word
  ])('%j -> %s', (reply, expected) => {
    expect(popeReading(reply)).toBe(expected);
  });
});
