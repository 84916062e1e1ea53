import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { ANSWER_MARKER, reasoningQuestions } from './chain-of-thought';
import { chainImpliedAnswer } from './chain-check';
import { counterfactualChain } from './counterfactual-chains';
import { CHAIN_STYLES, buildChain, chainSteps } from './reasoning-chains';
import type { ChainOptions } from './reasoning-chains';
import { generateScene } from './generate-scene';
import { circle, cross, handScene, question, redCount, squareColor } from './hand-scene.test-helper';
import { CELLS, COLORS, SHAPES, SIZES } from './scene';

const scene = handScene;
const q = question;
const described: ChainOptions = { style: 'single', length: 'fixed', carry: 'described' };
const marked = (reply: string, untrained: number[]) => reply.split(' ').map((w, i) => (untrained.includes(i) ? `[${w}]` : w)).join(' ');

describe('counterfactual chains', () => {
  it('a filtered count: one object re-described to match or miss the filter, the tallies and the answer following the text', () => {
    expect(buildChain(scene, redCount, described)).toBe(
      'the top left has a small red circle , is red , one . the top right is empty . the bottom left has a large blue square , not red . the bottom right has a large red cross , is red , two . so the answer is two .',
    );
    const seen = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const cf = counterfactualChain(scene, redCount, described, new Rng(seed))!;
      seen.add(marked(cf.reply, cf.untrainedWords));
    }
    // each of the three objects, re-coloured: a red one to another colour (one fewer), the blue square to red (one more)
    expect([...seen].some((s) => s.startsWith('the top left has a small [') && s.includes(', not red . the top right') && s.endsWith('so the answer is one .'))).toBe(true);
    expect([...seen]).toContain(
      'the top left has a small red circle , is red , one . the top right is empty . the bottom left has a large [red] square , is red , two . the bottom right has a large red cross , is red , three . so the answer is three .',
    );
  });

  it('a spatial question: a named object trades cells with another, its place and the comparison read from the text', () => {
    const circleLeft = q('is the red circle left of the red cross ?', 'yes', { type: 'spatial', a: circle, relation: 'left of', b: cross });
    const replies = new Set(Array.from({ length: 30 }, (_, seed) => counterfactualChain(scene, circleLeft, described, new Rng(seed))!).map((cf) => marked(cf.reply, cf.untrainedWords)));
    // the circle and the cross trade places: the answer turns to no
    expect(replies).toContain(
      'the top left has a [large] red [cross] . the top right is empty . the bottom left has a large blue square . the bottom right has a [small] red [circle] . ' +
        'the red circle is at the bottom right . the red cross is at the top left . right is not left of left . so the answer is no .',
    );
    // the cross trades places with the square: both are in the left column now, the answer turns to no
    expect(replies).toContain(
      'the top left has a small red circle . the top right is empty . the bottom left has a large [red] [cross] . the bottom right has a large [blue] [square] . ' +
        'the red circle is at the top left . the red cross is at the bottom left . left is not left of left . so the answer is no .',
    );
  });

  it('a colour question: the asked object re-coloured; a plain count has nothing to alter', () => {
    const cf = counterfactualChain(scene, squareColor, described, new Rng(0))!;
    expect(marked(cf.reply, cf.untrainedWords)).toMatch(/^the top left has a small red circle \. the top right is empty \. the bottom left has a large \[(\w+)\] square \. the bottom right has a large red cross \. the square is \1 \. so the answer is \1 \.$/);
    expect(cf.answer).not.toBe('blue');
    expect(counterfactualChain(scene, q('how many objects are there ?', 'three', { type: 'count' }), described, new Rng(0))).toBeUndefined();
  });

  it('on generated scenes, in both styles and both carries that describe every cell: the steps imply the stated answer, and only description words are untrained', () => {
    const rng = new Rng(7);
    const vocabulary = new Set<string>([...COLORS, ...SHAPES, ...SIZES]);
    let altered = 0;
    let answerChanged = 0;
    for (let i = 0; i < 60; i++) {
      const s = generateScene(rng, `s${i}`);
      for (const question of reasoningQuestions(s, rng))
        for (const style of CHAIN_STYLES)
          for (const carry of ['described', 'listed'] as const) {
            const options: ChainOptions = { style, length: 'fixed', carry };
            const cf = counterfactualChain(s, question, options, rng);
            if (!cf) continue;
            altered++;
            if (cf.answer !== question.answer) answerChanged++;
            expect(chainImpliedAnswer(question.question, cf.reply)).toBe(cf.answer);
            expect(cf.reply.endsWith(`${ANSWER_MARKER} ${cf.answer} .`)).toBe(true);
            const words = cf.reply.split(' ');
            // every cell's step ends with the first '.' after it: the untrained words lie before the fourth
            const cellStepsEnd = words.map((w, k) => (w === '.' ? k : -1)).filter((k) => k >= 0)[CELLS.length - 1]!;
            expect(cf.untrainedWords.length).toBeGreaterThan(0);
            for (const w of cf.untrainedWords) {
              expect(vocabulary.has(words[w]!)).toBe(true);
              expect(w).toBeLessThan(cellStepsEnd);
            }
            // the true chain's cell steps differ from these at the untrained words' places only where they are as long
            const trueWords = chainSteps(s, question, options).join(' ').split(' ');
            if (trueWords.length === words.length) expect(words.filter((w, k) => w !== trueWords[k] && !cf.untrainedWords.includes(k) && k < cellStepsEnd).every((w) => !vocabulary.has(w))).toBe(true);
          }
    }
    expect(altered).toBeGreaterThan(500);
    // most alterations change the answer (a trade of places within one column may not)
    expect(answerChanged / altered).toBeGreaterThan(0.6);
  });

  it('refuses chains that do not describe every cell first', () => {
    expect(() => counterfactualChain(scene, redCount, { style: 'single', length: 'adaptive', carry: 'described' }, new Rng(0))).toThrow(/length "fixed".*"adaptive"/);
    expect(() => counterfactualChain(scene, redCount, { style: 'single', length: 'fixed', carry: 'running' }, new Rng(0))).toThrow(/carry "listed" or "described".*"running"/);
  });
});
