import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { ANSWER_MARKER, reasoningQuestions } from './chain-of-thought';
import { CHAIN_CARRIES, CHAIN_LENGTHS, CHAIN_STYLES, INFILL_GAP, buildChain, chainCorpus, chainSteps, infillingTurn } from './reasoning-chains';
import { generateScene } from './generate-scene';
import { circle, cross, handScene, question, redCount, squareColor } from './hand-scene.test-helper';

const scene = handScene;
const q = question;

const crossAbove = q('is the red cross above the red circle ?', 'no', { type: 'spatial', a: cross, relation: 'above', b: circle });
const circleLeft = q('is the red circle left of the red cross ?', 'yes', { type: 'spatial', a: circle, relation: 'left of', b: cross });

describe('buildChain on a hand-worked scene', () => {
  it('single, fixed: one statement per cell, then the count one number per object', () => {
    expect(buildChain(scene, redCount, { style: 'single', length: 'fixed' })).toBe(
      'the top left has a small red circle . the top right is empty . the bottom left has a large blue square . the bottom right has a large red cross . ' +
        'counting the red ones : one , two . so the answer is two .',
    );
  });

  it('single, adaptive: only the objects the question is about', () => {
    expect(buildChain(scene, redCount, { style: 'single', length: 'adaptive' })).toBe(
      'the top left has a small red circle . the bottom right has a large red cross . counting the red ones : one , two . so the answer is two .',
    );
    expect(buildChain(scene, squareColor, { style: 'single', length: 'adaptive' })).toBe('the bottom left has a large blue square . the square is blue . so the answer is blue .');
  });

  it('single spatial: where each named object is, then the rows or columns compared', () => {
    expect(buildChain(scene, crossAbove, { style: 'single', length: 'adaptive' })).toBe(
      'the top left has a small red circle . the bottom right has a large red cross . ' +
        'the red cross is at the bottom right . the red circle is at the top left . bottom is not above top . so the answer is no .',
    );
    expect(chainSteps(scene, circleLeft, { style: 'single', length: 'adaptive' }).at(-1)).toBe('left is left of right .');
  });

  it('tree: sub-questions answered one by one, then combined', () => {
    expect(buildChain(scene, circleLeft, { style: 'tree', length: 'fixed' })).toBe(
      'what is at the top left ? a small red circle . what is at the top right ? nothing . what is at the bottom left ? a large blue square . what is at the bottom right ? a large red cross . ' +
        'where is the red circle ? at the top left . where is the red cross ? at the bottom right . is left left of right ? yes . so the answer is yes .',
    );
    expect(buildChain(scene, q('how many triangles are there ?', 'zero', { type: 'count', filter: { shape: 'triangle' } }), { style: 'tree', length: 'adaptive' })).toBe(
      'how many are triangles ? zero . so the answer is zero .',
    );
  });

  it('described: every cell described first; a count kept as running keeps it, places read from the descriptions as listed reads them', () => {
    const options = { style: 'single', length: 'fixed', carry: 'described' } as const;
    expect(buildChain(scene, redCount, options)).toBe(buildChain(scene, redCount, { ...options, carry: 'running' }));
    expect(buildChain(scene, crossAbove, options)).toBe(
      'the top left has a small red circle . the top right is empty . the bottom left has a large blue square . the bottom right has a large red cross . ' +
        'the red cross is at the bottom right . the red circle is at the top left . bottom is not above top . so the answer is no .',
    );
    expect(buildChain(scene, squareColor, options)).toBe(buildChain(scene, squareColor, { ...options, carry: 'listed' }));
  });

  it('restated: as running, with what a filtered count counts restated and answered yes or no at each object', () => {
    expect(buildChain(scene, redCount, { style: 'single', length: 'fixed', carry: 'restated' })).toBe(
      'the top left has a small red circle , red ? yes , one . the top right is empty . the bottom left has a large blue square , red ? no . the bottom right has a large red cross , red ? yes , two . so the answer is two .',
    );
    expect(buildChain(scene, q('how many squares are there ?', 'one', { type: 'count', filter: { shape: 'square' } }), { style: 'tree', length: 'fixed', carry: 'restated' })).toBe(
      'what is at the top left ? a small red circle , a square ? no . what is at the top right ? nothing . what is at the bottom left ? a large blue square , a square ? yes , one . what is at the bottom right ? a large red cross , a square ? no . so the answer is one .',
    );
    // a plain count and a spatial question are written as running writes them
    const plain = q('how many objects are there ?', 'three', { type: 'count' });
    expect(buildChain(scene, plain, { style: 'single', length: 'fixed', carry: 'restated' })).toBe(buildChain(scene, plain, { style: 'single', length: 'fixed', carry: 'running' }));
    expect(buildChain(scene, crossAbove, { style: 'single', length: 'fixed', carry: 'restated' })).toBe(buildChain(scene, crossAbove, { style: 'single', length: 'fixed', carry: 'running' }));
  });

  it('running: a count kept at each matching object, named objects placed first in the question order', () => {
    expect(buildChain(scene, redCount, { style: 'single', length: 'fixed', carry: 'running' })).toBe(
      'the top left has a small red circle , is red , one . the top right is empty . the bottom left has a large blue square , not red . the bottom right has a large red cross , is red , two . so the answer is two .',
    );
    expect(buildChain(scene, redCount, { style: 'tree', length: 'adaptive', carry: 'running' })).toBe(
      'what is at the top left ? a small red circle , is red , one . what is at the bottom right ? a large red cross , is red , two . so the answer is two .',
    );
    expect(buildChain(scene, crossAbove, { style: 'single', length: 'fixed', carry: 'running' })).toBe(
      'the red cross is at the bottom right . the red circle is at the top left . bottom is not above top . so the answer is no .',
    );
    expect(buildChain(scene, q('how many triangles are there ?', 'zero', { type: 'count', filter: { shape: 'triangle' } }), { style: 'single', length: 'adaptive', carry: 'running' })).toBe(
      'so the answer is zero .',
    );
    expect(buildChain(scene, q('how many squares are there ?', 'one', { type: 'count', filter: { shape: 'square' } }), { style: 'single', length: 'fixed', carry: 'running' })).toBe(
      'the top left has a small red circle , not a square . the top right is empty . the bottom left has a large blue square , is a square , one . the bottom right has a large red cross , not a square . so the answer is one .',
    );
    expect(buildChain(scene, q('how many objects are there ?', 'three', { type: 'count' }), { style: 'single', length: 'adaptive', carry: 'running' })).toBe(
      'the top left has a small red circle , one . the bottom left has a large blue square , two . the bottom right has a large red cross , three . so the answer is three .',
    );
  });

  it('scanned: a spatial chain reads every cell in order and marks each named object with its side there, then says whether it read the first asked first and compares', () => {
    // "is the red cross above the red circle ?": the circle is read first, so the first mark is the second object's row
    expect(buildChain(scene, crossAbove, { style: 'single', length: 'adaptive', carry: 'scanned' })).toBe(
      'first asked : the red cross . the top left has a small red circle , the red circle is top . the top right is empty . the bottom left has a large blue square . ' +
        'the bottom right has a large red cross , the red cross is bottom . read first : the red circle . first asked : the red cross . not the same . bottom is not above top . so the answer is no .',
    );
    expect(chainSteps(scene, circleLeft, { style: 'tree', length: 'fixed', carry: 'scanned' })).toEqual([
      'first asked : the red circle .',
      'what is at the top left ? a small red circle , the red circle is left .',
      'what is at the top right ? nothing .',
      'what is at the bottom left ? a large blue square .',
      'what is at the bottom right ? a large red cross , the red cross is right .',
      'read first : the red circle .',
      'first asked : the red circle .',
      'the same .',
      'left is left of right .',
    ]);
    // counts and colour questions are written as running writes them
    for (const asked of [redCount, squareColor]) expect(buildChain(scene, asked, { style: 'single', length: 'fixed', carry: 'scanned' })).toBe(buildChain(scene, asked, { style: 'single', length: 'fixed', carry: 'running' }));
  });

  it('checked: a yes/no sub-question per cell with the count kept at each yes; the named objects checked against their sides', () => {
    expect(buildChain(scene, redCount, { style: 'single', length: 'adaptive', carry: 'checked' })).toBe(
      'is the top left red ? yes , one . is the top right red ? no . is the bottom left red ? no . is the bottom right red ? yes , two . so the answer is two .',
    );
    expect(buildChain(scene, q('how many squares are there ?', 'one', { type: 'count', filter: { shape: 'square' } }), { style: 'tree', length: 'fixed', carry: 'checked' })).toBe(
      'is the top left a square ? no . is the top right a square ? no . is the bottom left a square ? yes , one . is the bottom right a square ? no . so the answer is one .',
    );
    expect(buildChain(scene, q('how many objects are there ?', 'three', { type: 'count' }), { style: 'tree', length: 'fixed', carry: 'checked' })).toBe(
      'is there an object at the top left ? yes , one . is there an object at the top right ? no . is there an object at the bottom left ? yes , two . is there an object at the bottom right ? yes , three . so the answer is three .',
    );
    // "is the red cross above the red circle ?": above needs the first on top and the second at the bottom
    expect(buildChain(scene, crossAbove, { style: 'tree', length: 'fixed', carry: 'checked' })).toBe('is the red cross at the top ? no . is the red circle at the bottom ? no . so the answer is no .');
  });

  it('fixed length has four object steps for every question; adaptive as many as the question names', () => {
    const rng = new Rng(4);
    for (let i = 0; i < 100; i++) {
      const s = generateScene(rng, `s${i}`);
      for (const question of reasoningQuestions(s, rng)) {
        const objectSteps = (length: 'fixed' | 'adaptive') => chainSteps(s, question, { style: 'tree', length }).filter((x) => x.startsWith('what is at')).length;
        expect(objectSteps('fixed')).toBe(4);
        const named = question.about.type === 'spatial' ? 2 : question.about.type === 'color' ? 1 : Number.NaN;
        if (!Number.isNaN(named)) expect(objectSteps('adaptive')).toBe(named);
        else expect(objectSteps('adaptive')).toBeLessThanOrEqual(s.objects.length);
      }
    }
  });
});

describe('infillingTurn', () => {
  it('blanks one step (never the answer) and replies with it', () => {
    const rng = new Rng(2);
    const full = buildChain(scene, redCount, { style: 'single', length: 'fixed' });
    for (let i = 0; i < 20; i++) {
      const { prompt, reply } = infillingTurn(scene, redCount, { style: 'single', length: 'fixed' }, rng);
      expect(prompt.startsWith('how many red objects are there ? think step by step . ')).toBe(true);
      expect(prompt).toContain(`${INFILL_GAP} .`);
      expect(prompt).toContain(`${ANSWER_MARKER} two .`);
      expect(reply).not.toContain(ANSWER_MARKER);
      // putting the reply back where the gap is gives the whole chain
      const shown = prompt.slice('how many red objects are there ? think step by step . '.length, prompt.lastIndexOf(' what is the blank step ?'));
      expect(shown.replace(`${INFILL_GAP} .`, reply)).toBe(full);
    }
  });
});

describe('chainCorpus', () => {
  it('holds every word of every chain style, length and carry, given the carry', () => {
    const rng = new Rng(8);
    const scenes = Array.from({ length: 30 }, (_, i) => generateScene(rng, `c${i}`));
    const asked = scenes.map((s) => ({ s, questions: reasoningQuestions(s, rng) }));
    for (const carry of CHAIN_CARRIES) {
      const words = new Set(chainCorpus(scenes.slice(0, 2), new Rng(0), carry).flatMap((t) => t.split(' ')));
      const missing = new Set<string>();
      const check = (text: string) => text.split(' ').forEach((w) => words.has(w) || missing.add(w));
      for (const { s, questions } of asked)
        for (const question of questions)
          for (const style of CHAIN_STYLES)
            for (const length of CHAIN_LENGTHS) {
              check(buildChain(s, question, { style, length, carry }));
              check(infillingTurn(s, question, { style, length, carry }, rng).prompt);
            }
      expect({ carry, missing: [...missing] }).toEqual({ carry, missing: [] });
    }
  });
});
