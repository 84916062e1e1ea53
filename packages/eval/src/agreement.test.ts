import { describe, expect, it } from 'vitest';
import { accuracy, averageRanks, cohenKappa, pearson, spearman } from './agreement';

describe('accuracy', () => {
  it('is the share of items the two lists agree on', () => {
    expect(accuracy([true, false, true, true], [true, true, true, false])).toBe(0.5);
    expect(accuracy(['yes'], ['yes'])).toBe(1);
    expect(accuracy([], [])).toBeNaN();
  });

  it('refuses lists of different lengths', () => {
    expect(() => accuracy([1, 2], [1])).toThrow(/same items, got 2 and 1/);
  });
});

describe('cohenKappa', () => {
  it('matches the textbook 2 x 2 table (20 yes-yes, 5 yes-no, 10 no-yes, 15 no-no: kappa 0.4)', () => {
    // p_o = 35/50 = 0.7; rater a says yes 25/50, rater b 30/50: p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5
    const a = [...Array(25).fill('yes'), ...Array(25).fill('no')];
    const b = [...Array(20).fill('yes'), ...Array(5).fill('no'), ...Array(10).fill('yes'), ...Array(15).fill('no')];
    expect(cohenKappa(a, b)).toBeCloseTo(0.4, 12);
  });

  it('matches a hand-worked case with equal marginals (7/15)', () => {
    // agreement 6/8; both raters 5/8 true: p_e = 25/64 + 9/64 = 34/64; (0.75 - 34/64) / (30/64) = 14/30
    const a = [true, true, false, false, true, false, true, true];
    const b = [true, false, false, false, true, true, true, true];
    expect(cohenKappa(a, b)).toBeCloseTo(7 / 15, 12);
  });

  it('is 1 for perfect agreement, 0 for a rater that always says the majority label, negative below chance', () => {
    const truth = [true, true, true, false];
    expect(cohenKappa(truth, truth)).toBe(1);
    // accuracy 0.75, but the always-true rater's label share alone predicts it: p_e = 0.75
    expect(accuracy([true, true, true, true], truth)).toBe(0.75);
    expect(cohenKappa([true, true, true, true], truth)).toBe(0);
    expect(cohenKappa([false, false, true, true], [true, true, false, false])).toBe(-1);
  });

  it('is NaN when both raters give one and the same label to everything (0 / 0)', () => {
    expect(cohenKappa([true, true], [true, true])).toBeNaN();
    expect(cohenKappa([], [])).toBeNaN();
  });
});

describe('ranks and correlations', () => {
  it('gives tied values the mean of their ranks', () => {
    expect(averageRanks([10, 20, 20, 30])).toEqual([1, 2.5, 2.5, 4]);
    expect(averageRanks([3, 1, 3, 3])).toEqual([3, 1, 3, 3]);
    expect(averageRanks([])).toEqual([]);
  });

  it('Spearman without ties: 1 - 6 sum(d^2) / (n (n^2 - 1))', () => {
    // d = [-1, 1, -1, 1, 0]: 1 - 6 * 4 / 120 = 0.8
    expect(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.8, 12);
    expect(spearman([1, 2, 3], [30, 20, 10])).toBeCloseTo(-1, 12);
  });

  it('Spearman with ties is Pearson on average ranks (hand-worked: 3 / sqrt(10))', () => {
    // ranks x = [1, 2.5, 2.5, 4], y = [1, 3, 2, 4]; deviations from 2.5: sxy = 4.5, sxx = 4.5, syy = 5
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(3 / Math.sqrt(10), 12);
    // ties on both sides: ranks x = [1.5, 1.5, 3, 4], y = [1, 2.5, 2.5, 4]
    // deviations dx = [-1, -1, 0.5, 1.5], dy = [-1.5, 0, 0, 1.5]: sxy = 3.75, sxx = 4.5, syy = 4.5
    expect(spearman([5, 5, 7, 9], [0.1, 0.4, 0.4, 0.9])).toBeCloseTo(3.75 / 4.5, 12);
  });

  it('is NaN for a constant list and refuses non-finite values', () => {
    expect(spearman([1, 2, 3], [4, 4, 4])).toBeNaN();
    expect(pearson([1], [2])).toBeNaN();
    expect(() => spearman([1, NaN], [1, 2])).toThrow(/finite/);
  });
});
