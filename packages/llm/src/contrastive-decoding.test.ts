import { describe, expect, it } from 'vitest';
import { contrastLogits } from './contrastive-decoding';

describe('contrastLogits (VCD)', () => {
  it('contrasts the plausible tokens and cuts those below beta x the most likely one, per row', () => {
    // row 0: max 2, cutoff log(0.1) + 2 = -0.303: token 2 (-1) is cut
    // row 1: max 0, cutoff -2.303: nothing is cut
    const logits = [2, 1, -1, 0, -2, -1];
    const contrast = [3, 0, 5, 1, 1, 1];
    const out = contrastLogits(logits, contrast, 3, { alpha: 1, beta: 0.1 });
    expect(Array.from(out)).toEqual([2 * 2 - 3, 2 * 1 - 0, -Infinity, 2 * 0 - 1, 2 * -2 - 1, 2 * -1 - 1]);
  });

  it('moves the pick from what the distorted image also favours to what only the real image supports', () => {
    // the prior ("large") wins on the real image by a little and on the distorted one by a lot
    const real = [1.0, 0.9];
    const distorted = [2.0, 0.0];
    const out = contrastLogits(real, distorted, 2, { alpha: 1, beta: 0.1 });
    expect(out[1]! > out[0]!).toBe(true);
  });

  it('with beta 1 keeps only the most likely token(s)', () => {
    const out = contrastLogits([1, 3, 3], [0, 0, 9], 3, { alpha: 0.5, beta: 1 });
    expect(out[0]).toBe(-Infinity);
    expect(out[1]).toBeCloseTo(4.5, 12);
    expect(out[2]).toBeCloseTo(0, 12);
  });

  it('refuses rows of different sizes', () => {
    expect(() => contrastLogits([1, 2], [1], 2, { alpha: 1, beta: 0.1 })).toThrow(/rows x vocab/);
  });
});
