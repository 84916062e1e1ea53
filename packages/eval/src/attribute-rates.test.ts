import { describe, expect, it } from 'vitest';
import { attributeRates } from './attribute-rates';

describe('attributeRates', () => {
  it('sums tallies per attribute before dividing (a text with more objects weighs more)', () => {
    const r = attributeRates([
      { color: { correct: 1, total: 1 }, count: { correct: 0, total: 1 } },
      { color: { correct: 1, total: 3 }, count: { correct: 1, total: 1 } },
    ]);
    expect(r.accuracy).toEqual({ color: 0.5, count: 0.5 });
    expect(r.totals).toEqual({ color: 4, count: 2 });
  });

  it('gives 0 for an attribute with no chances and nothing for no texts', () => {
    expect(attributeRates([{ position: { correct: 0, total: 0 } }]).accuracy).toEqual({ position: 0 });
    expect(attributeRates([])).toEqual({ accuracy: {}, totals: {} });
  });
});
