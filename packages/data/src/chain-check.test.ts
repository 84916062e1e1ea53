import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { reasoningQuestions } from './chain-of-thought';
import { CHAIN_CARRIES, CHAIN_LENGTHS, CHAIN_STYLES, buildChain } from './reasoning-chains';
import { chainImpliedAnswer, listedObjects, parseReasoningQuestion } from './chain-check';
import { generateScene } from './generate-scene';

describe('parseReasoningQuestion', () => {
  it('reads the subject of each question form, and nothing else', () => {
    expect(parseReasoningQuestion('how many objects are there ?')).toEqual({ type: 'count' });
    expect(parseReasoningQuestion('How many  green objects are there ?')).toEqual({ type: 'count', color: 'green' });
    expect(parseReasoningQuestion('how many crosses are there ?')).toEqual({ type: 'count', shape: 'cross' });
    expect(parseReasoningQuestion('what color is the triangle ?')).toEqual({ type: 'color', shape: 'triangle' });
    expect(parseReasoningQuestion('is the red circle right of the blue square ?')).toEqual({
      type: 'spatial',
      a: { color: 'red', shape: 'circle' },
      relation: 'right of',
      b: { color: 'blue', shape: 'square' },
    });
    expect(parseReasoningQuestion('is there a red circle in the image ?')).toBeUndefined();
    expect(parseReasoningQuestion('how many purple objects are there ?')).toBeUndefined();
  });
});

describe('chainImpliedAnswer', () => {
  const chain = 'the top left has a small red circle . the top right is empty . the bottom left has a large blue square . the bottom right has a large red cross .';

  it('recomputes the answer from the steps, whatever the chain states', () => {
    expect(chainImpliedAnswer('how many red objects are there ?', `${chain} counting the red ones : one , two . so the answer is two .`)).toBe('two');
    // the steps list two red objects; the stated "one" contradicts them
    expect(chainImpliedAnswer('how many red objects are there ?', `${chain} counting the red ones : one . so the answer is one .`)).toBe('two');
    expect(chainImpliedAnswer('how many objects are there ?', chain)).toBe('three');
    expect(chainImpliedAnswer('how many triangles are there ?', chain)).toBe('zero');
    expect(chainImpliedAnswer('what color is the square ?', `${chain} so the answer is red .`)).toBe('blue');
    expect(chainImpliedAnswer('is the red circle left of the red cross ?', `${chain} so the answer is no .`)).toBe('yes');
    expect(chainImpliedAnswer('is the red circle above the blue square ?', chain)).toBe('yes');
    expect(chainImpliedAnswer('is the red circle left of the blue square ?', chain)).toBe('no');
  });

  it('an explicit placement step wins over the object list; tree and original chains parse too', () => {
    expect(chainImpliedAnswer('is the red circle below the red cross ?', `${chain} the red circle is at the bottom left . the red cross is at the top right .`)).toBe('yes');
    const tree = 'what is at the top left ? a small red circle . what is at the top right ? nothing . what is at the bottom right ? a large red cross . where is the red cross ? at the bottom right .';
    expect(listedObjects(tree).map((o) => `${o.cell}:${o.color} ${o.shape}`)).toEqual(['top left:red circle', 'bottom right:red cross']);
    expect(chainImpliedAnswer('is the red cross right of the red circle ?', tree)).toBe('yes');
    expect(chainImpliedAnswer('how many circles are there ?', 'the objects are a small red circle at the top left , a large red circle at the bottom right . so the answer is one .')).toBe('two');
  });

  it('reads a scanned chain by the objects it reads, not by its marks or comparison', () => {
    const scanned =
      'first asked : the red circle . the top left has a small red circle , the red circle is left . the top right is empty . the bottom left has a large blue square , the blue square is right . ' +
      'the bottom right is empty . read first : the red circle . first asked : the red circle . the same . left is left of right . so the answer is yes .';
    expect(listedObjects(scanned).map((o) => `${o.cell}:${o.color} ${o.shape}`)).toEqual(['top left:red circle', 'bottom left:blue square']);
    // the second mark is wrong (both objects are on the left): what the chain read says no
    expect(chainImpliedAnswer('is the red circle left of the blue square ?', scanned)).toBe('no');
    expect(chainImpliedAnswer('is the red circle above the blue square ?', scanned)).toBe('yes');
  });

  it('is undefined when the steps do not place what the question names', () => {
    expect(chainImpliedAnswer('is the green cross left of the red circle ?', chain)).toBeUndefined();
    expect(chainImpliedAnswer('what color is the triangle ?', chain)).toBeUndefined();
    expect(chainImpliedAnswer('is there a red circle in the image ?', chain)).toBeUndefined();
    // one cell stated twice: the first statement counts
    expect(listedObjects('the top left has a small red circle . the top left has a large blue square .')).toHaveLength(1);
  });

  it('reads a checked chain by its yes/no sub-questions, not by what it lists', () => {
    const counted = 'is the top left red ? yes , one . is the top right red ? no . is the bottom left red ? yes , two . is the bottom right red ? no . so the answer is three .';
    expect(chainImpliedAnswer('how many red objects are there ?', counted)).toBe('two');
    // checks of another colour are not about the question; a cell's first check wins
    expect(chainImpliedAnswer('how many red objects are there ?', 'is the top left blue ? yes , one . is the top right red ? yes , one . is the top right red ? no .')).toBe('one');
    expect(chainImpliedAnswer('how many squares are there ?', 'is the top left a square ? yes , one . is the top right a circle ? yes .')).toBe('one');
    expect(chainImpliedAnswer('how many objects are there ?', 'is there an object at the top left ? no . is there an object at the bottom right ? yes , one .')).toBe('one');
    expect(chainImpliedAnswer('is the red circle left of the blue square ?', 'is the red circle at the left ? yes . is the blue square at the right ? yes .')).toBe('yes');
    expect(chainImpliedAnswer('is the red circle above the blue square ?', 'is the red circle at the top ? no . is the blue square at the bottom ? yes .')).toBe('no');
    // the second check names another object, or the wrong side: the steps do not say
    expect(chainImpliedAnswer('is the red circle left of the blue square ?', 'is the red circle at the left ? yes . is the red circle at the right ? yes .')).toBeUndefined();
    expect(chainImpliedAnswer('is the red circle left of the blue square ?', 'is the red circle at the left ? yes . is the blue square at the left ? yes .')).toBeUndefined();
  });

  it('every generated chain, in every style and length, implies its own answer', () => {
    const rng = new Rng(11);
    for (let i = 0; i < 200; i++) {
      const scene = generateScene(rng, `s${i}`);
      for (const q of reasoningQuestions(scene, rng)) {
        expect(chainImpliedAnswer(q.question, q.chain)).toBe(q.answer);
        for (const style of CHAIN_STYLES)
          for (const length of CHAIN_LENGTHS) for (const carry of CHAIN_CARRIES) expect(chainImpliedAnswer(q.question, buildChain(scene, q, { style, length, carry }))).toBe(q.answer);
      }
    }
  });
});
