import { describe, expect, it } from 'vitest';
import { faithScore } from '@mllm/eval';
import { fixedExpert, keyConcepts, rewriteAnswer, verificationQuestions, visualClaims, woodpeckerCorrect } from './index';

// a small red circle at the top left, a large blue square at the bottom right
const seen = [
  { color: 'red', shape: 'circle', size: 'small', cell: 'top left' },
  { color: 'blue', shape: 'square', size: 'large', cell: 'bottom right' },
];
const faithful = 'there are two objects in the image . a small red circle is at the top left . a large blue square is at the bottom right . the small red circle is left of the large blue square .';

describe('Woodpecker-style post-correction', () => {
  it('leaves a faithful answer unchanged, character for character', async () => {
    const r = await woodpeckerCorrect(faithful, fixedExpert(seen));
    expect(r.changed).toBe(false);
    expect(r.corrected).toBe(faithful);
    expect(r.corrections).toEqual([]);
    const freeForm = 'The image shows a small red circle in the top left corner, and a large blue square.';
    expect((await woodpeckerCorrect(freeForm, fixedExpert(seen))).corrected).toBe(freeForm);
  });

  it('extracts the key concepts and asks about each', () => {
    const concepts = keyConcepts('a red circle and two green crosses . the red circle is small .');
    expect(concepts).toEqual([{ color: 'red', shape: 'circle' }, { color: 'green', shape: 'cross' }]);
    const questions = verificationQuestions(concepts).map((q) => q.question);
    expect(questions).toContain('is there a green cross in the image ?');
    expect(questions).toContain('how many green crosses are there ?');
    const claims = visualClaims(verificationQuestions(concepts), seen).map((c) => c.claim);
    expect(claims).toEqual(['there is a red circle', 'there is one red circle', 'the red circle is small', 'the red circle is at the top left', 'there is no green cross', 'there are no green crosses']);
  });

  it('corrects each kind of hallucination with the claim that contradicts it, hand-worked', () => {
    const answer =
      'there are three objects in the image . a large red circle is at the top left . a green cross is at the bottom right . a yellow triangle is at the top right . the red circle is right of the blue square .';
    const { corrected, corrections } = rewriteAnswer(answer, seen);
    expect(corrected).toBe('there are two objects in the image . a small red circle is at the top left . a blue square is at the bottom right . the red circle is left of the blue square .');
    expect(corrections).toEqual([
      { before: 'are three objects', after: 'are two objects', claim: 'there are two objects' },
      { before: 'large', after: 'small', claim: 'the red circle is small' },
      { before: 'green cross', after: 'blue square', claim: 'there is no green cross; the bottom right holds a large blue square' },
      { before: 'a yellow triangle is at the top right .', after: '', claim: 'there is no yellow triangle' },
      { before: 'right of', after: 'left of', claim: 'the red circle is at the top left and the blue square at the bottom right' },
    ]);
  });

  it('fixes a wrong cell and a wrong count of one category, and drops "the only object" when there are more', () => {
    expect(rewriteAnswer('the red circle is at the bottom left .', seen).corrected).toBe('the red circle is at the top left .');
    expect(rewriteAnswer('there are two red circles .', seen).corrected).toBe('there is one red circle .');
    expect(rewriteAnswer('a red circle . it is the only object .', seen).corrected).toBe('a red circle .');
  });

  it('leaves an object the expert saw something else at, but unsurely, as the answer names it', async () => {
    const unsure = [{ ...seen[0]!, confidence: 0.95 }, { color: 'green', shape: 'triangle', size: 'large', cell: 'bottom right', confidence: 0.6 }];
    const answer = 'a small red circle is at the top left . a large green cross is at the bottom right . the red circle is left of the green cross .';
    // at 0.9 the triangle call does not overrule the cross, and the relation on it is not checked
    expect(rewriteAnswer(answer, unsure, { minConfidence: 0.9 }).corrected).toBe(answer);
    expect((await woodpeckerCorrect(answer, fixedExpert(unsure), { minConfidence: 0.9 })).changed).toBe(false);
    // without a threshold (or below the call's confidence) it is corrected as before: the cross at its cell becomes the
    // triangle seen there, and the relation naming a green cross with no cell is dropped
    expect(rewriteAnswer(answer, unsure).corrected).toBe('a small red circle is at the top left . a large green triangle is at the bottom right .');
    expect(rewriteAnswer(answer, unsure, { minConfidence: 0.5 }).corrected).toBe(rewriteAnswer(answer, unsure).corrected);
  });

  it("renames a cell's object when the kind the answer gives it is already placed elsewhere, and moves it when it is not", () => {
    const three = [
      { color: 'green', shape: 'triangle', size: 'large', cell: 'top right' },
      { color: 'green', shape: 'cross', size: 'small', cell: 'bottom left' },
      { color: 'green', shape: 'triangle', size: 'small', cell: 'bottom right' },
    ];
    // both green triangles are described at their cells: the bottom left's object was misnamed
    const misnamed = 'a large green triangle is at the top right . a large green triangle is at the bottom left . a small green triangle is at the bottom right .';
    const r = rewriteAnswer(misnamed, three);
    expect(r.corrected).toBe('a large green triangle is at the top right . a small green cross is at the bottom left . a small green triangle is at the bottom right .');
    expect(r.corrections).toEqual([{ before: 'large green triangle', after: 'small green cross', claim: 'the green triangle is at the top right and the bottom right; the bottom left holds a small green cross' }]);
    // one of them is not described: the answer misplaced it
    expect(rewriteAnswer('a large green triangle is at the bottom left .', three).corrected).toBe('a large green triangle is at the top right .');
  });

  it('checks a relation on any two distinct objects of the kinds named, and drops one that needs two where there is one', () => {
    const twoCircles = [
      { color: 'red', shape: 'circle', size: 'small', cell: 'top left' },
      { color: 'red', shape: 'circle', size: 'small', cell: 'top right' },
    ];
    const both = 'a small red circle is at the top left . a small red circle is at the top right . the red circle is left of the red circle .';
    expect(rewriteAnswer(both, twoCircles).corrected).toBe(both);
    const r = rewriteAnswer('a small red circle is at the top left . the red circle is left of the red circle .', seen);
    expect(r.corrected).toBe('a small red circle is at the top left .');
    expect(r.corrections.map((c) => c.claim)).toEqual(['there is one red circle']);
    // an expert that sees no cells cannot refute a relation
    const noCells = 'the red circle is left of the red circle .';
    expect(rewriteAnswer(noCells, [{ color: 'red', shape: 'circle' }]).corrected).toBe(noCells);
  });

  it('with refuteBelow, overrules a named shape only where the expert gives it less than that chance', () => {
    const sure = (cross: number) => [
      { ...seen[0]!, confidence: 0.99 },
      { color: 'green', shape: 'triangle', size: 'large', cell: 'bottom right', confidence: 0.95, shapeProbabilities: { triangle: 0.95, cross } },
    ];
    const answer = 'a small red circle is at the top left . a large green cross is at the bottom right .';
    const replaced = 'a small red circle is at the top left . a large green triangle is at the bottom right .';
    // a sure triangle call that leaves the cross 0.04: refuted; leaving it 0.2: the answer stands
    expect(rewriteAnswer(answer, sure(0.04), { refuteBelow: 0.1 }).corrected).toBe(replaced);
    expect(rewriteAnswer(answer, sure(0.2), { refuteBelow: 0.1 }).corrected).toBe(answer);
    // the call alone (no refuteBelow) overrules both
    expect(rewriteAnswer(answer, sure(0.2)).corrected).toBe(replaced);
    // another colour at that cell is no support for the named shape
    const blue = sure(0.2).map((o, i) => (i === 1 ? { ...o, color: 'blue' } : o));
    expect(rewriteAnswer(answer, blue, { refuteBelow: 0.1 }).corrected).toBe('a small red circle is at the top left . a large blue triangle is at the bottom right .');
    // an expert without probabilities refutes as its call says
    expect(rewriteAnswer(answer, [seen[0]!, { color: 'green', shape: 'triangle', size: 'large', cell: 'bottom right' }], { refuteBelow: 0.1 }).corrected).toBe(replaced);
  });

  it('raises FaithScore to 1 on what it corrects (the expert being right)', async () => {
    const answer = 'there are three objects . a large red circle is at the bottom left . a green cross is at the bottom right .';
    const scene = { objects: seen };
    const before = faithScore([{ text: answer, scene }]).score;
    const after = faithScore([{ text: (await woodpeckerCorrect(answer, fixedExpert(seen))).corrected, scene }]).score;
    expect(before).toBeLessThan(0.5);
    expect(after).toBe(1);
  });
});
