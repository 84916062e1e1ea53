import { describe, expect, it } from 'vitest';
import { parseRubricScore, rubricAgreement, rubricPrompt } from './rubric-judge';

describe('parseRubricScore', () => {
  it('reads the first integer from 1 to 10', () => {
    expect(parseRubricScore('8')).toBe(8);
    expect(parseRubricScore('Score: 7/10')).toBe(7);
    expect(parseRubricScore('**9**\nThe response is mostly right.')).toBe(9);
    expect(parseRubricScore('10')).toBe(10);
    expect(parseRubricScore(' 1 ')).toBe(1);
  });

  it('skips numbers that are not a 1-10 score and reads on', () => {
    expect(parseRubricScore('0 errors in 100 words, so 9')).toBe(9);
    expect(parseRubricScore('I give 7.5 out of 10')).toBe(10);
    expect(parseRubricScore('-3, then 4')).toBe(4);
    expect(parseRubricScore('11')).toBeUndefined();
  });

  it('returns undefined for a reply without a score, never throws', () => {
    expect(parseRubricScore('')).toBeUndefined();
    expect(parseRubricScore('I cannot rate this response.')).toBeUndefined();
    expect(parseRubricScore('seven')).toBeUndefined();
  });
});

describe('rubricAgreement', () => {
  it('correlates parsed scores with the exact ones and counts the unparsed replies', () => {
    const replies = ['2', 'score 5', 'no idea', '9', '9'];
    const exact = [1, 6, 10, 8, 10];
    // scored pairs (2,1) (5,6) (9,8) (9,10): ranks [1, 2, 3.5, 3.5] vs [1, 2, 3, 4]
    // deviations from 2.5: [-1.5, -0.5, 1, 1] and [-1.5, -0.5, 0.5, 1.5]: sxy = 4.5, sxx = 4.5, syy = 5
    const r = rubricAgreement(replies, exact);
    expect(r.spearman).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
    expect(r).toMatchObject({ n: 4, unparsed: 1, meanScore: 6.25, meanExact: 6.25 });
  });

  it('gives NaN (not a throw) when nothing parses', () => {
    expect(rubricAgreement(['?', 'no'], [3, 4])).toMatchObject({ n: 0, unparsed: 2 });
    expect(rubricAgreement(['?'], [3]).spearman).toBeNaN();
    expect(() => rubricAgreement(['1'], [])).toThrow(/one reply per response/);
  });

  it('puts the reference and the response in the review prompt, with the answer format', () => {
    const prompt = rubricPrompt('a red circle is at the top left .', 'a blue square .');
    expect(prompt).toContain('a red circle is at the top left .\n[End of reference]');
    expect(prompt).toContain('[Response]\na blue square .');
    expect(prompt).toMatch(/scale of 1 to 10/);
  });
});
