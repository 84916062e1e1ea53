import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluate';
import type { Answerer, EvalSet } from './evaluate';
import { finalAnswer, scoreReasoning } from './reasoning';

const MARKER = 'so the answer is';

describe('finalAnswer', () => {
  it('reads the words after the last marker up to the end of the sentence', () => {
    expect(finalAnswer('the objects are a small red circle at the top left . so the answer is one .', MARKER)).toBe('one');
    expect(finalAnswer('So the answer is Top Left. Anything after', MARKER)).toBe('top left');
    expect(finalAnswer('so the answer is two . no wait , so the answer is three', MARKER)).toBe('three');
    expect(finalAnswer('so the answer is yes , it is', MARKER)).toBe('yes');
    expect(finalAnswer('so   the\nanswer is red', MARKER)).toBe('red');
  });

  it('is undefined without the marker or without an answer after it', () => {
    expect(finalAnswer('one', MARKER)).toBeUndefined();
    expect(finalAnswer('the objects are a red circle .', MARKER)).toBeUndefined();
    expect(finalAnswer('so the answer is .', MARKER)).toBeUndefined();
    expect(finalAnswer('', MARKER)).toBeUndefined();
  });
});

const scenes = [
  { id: 's0', objects: [{ color: 'red', shape: 'circle' }, { color: 'blue', shape: 'square' }] },
  { id: 's1', objects: [{ color: 'green', shape: 'cross' }] },
];
const items = [
  { sceneId: 's0', type: 'count', question: 'how many red objects are there ?', answer: 'one' },
  { sceneId: 's0', type: 'count', question: 'how many objects are there ?', answer: 'two' },
  { sceneId: 's1', type: 'color', question: 'what color is the cross ?', answer: 'green' },
  { sceneId: 's0', type: 'spatial', question: 'is the red circle left of the blue square ?', answer: 'yes' },
];
const set: EvalSet = {
  scenes,
  closedSet: [],
  pope: { random: [], popular: [], adversarial: [] },
  captionPrompt: 'describe the image .',
  reasoning: { items, prompt: 'think step by step .', marker: MARKER, implied: (question, chain) => impliedByStub(question, chain) },
};

/** The stub world's parser: a chain's steps imply the word after "steps say". */
function impliedByStub(_question: string, chain: string): string | undefined {
  return /steps say (\w+)/.exec(chain)?.[1];
}

/**
 * Known behaviour: asked directly it answers every count question "two" (right once of two) and
 * the rest right; asked step by step it reasons to the right answer except on the colour item,
 * where it stops before the marker.
 */
const stub: Answerer = {
  answer: async (requests) =>
    requests.map(({ prompt }) => {
      const item = items.find((q) => prompt.startsWith(q.question));
      if (!item) return ''; // the caption prompts
      const stepByStep = prompt.endsWith('think step by step .');
      if (!stepByStep) return item.type === 'count' ? 'two' : item.answer;
      if (item.type === 'color') return 'the objects are a green cross .';
      // the spatial chain's steps say the opposite of its final answer
      if (item.type === 'spatial') return `steps say no . ${MARKER} ${item.answer} .`;
      return `steps say ${item.answer} . ${MARKER} ${item.answer} .`;
    }),
};

describe('evaluation with and without reasoning', () => {
  it('asks each question both ways and scores the direct reply and the parsed final answer', async () => {
    const seen: string[] = [];
    const recording: Answerer = { answer: async (r) => (seen.push(...r.map((x) => x.prompt)), stub.answer(r)) };
    const report = await evaluate(recording, set, { batchSize: 3 });
    expect(seen.filter((p) => p.endsWith('think step by step .'))).toHaveLength(items.length);
    const r = report.reasoning!;
    expect(r.direct.byType).toEqual({ count: { accuracy: 0.5, n: 2 }, color: { accuracy: 1, n: 1 }, spatial: { accuracy: 1, n: 1 } });
    expect(r.direct.accuracy).toBe(0.75);
    expect(r.chain.byType).toEqual({ count: { accuracy: 1, n: 2 }, color: { accuracy: 0, n: 1 }, spatial: { accuracy: 1, n: 1 } });
    expect(r.answered).toBe(0.75);
    // the colour chain has no final answer, the spatial one contradicts its steps: 2 of 4
    expect(r.inconsistent).toBe(0.5);
    expect(r.samples[2]).toMatchObject({ direct: 'green', chain: 'the objects are a green cross .' });
  });

  it('a set without reasoning questions reports none; a reply list of the wrong length throws', async () => {
    const { reasoning: _, ...plain } = set;
    expect((await evaluate(stub, { ...plain, closedSet: [items[0]!] })).reasoning).toBeUndefined();
    expect(() => scoreReasoning(set.reasoning!, ['one'], ['one'])).toThrow(/4 items but 1 direct/);
  });

  it('a chain whose steps imply no answer counts as inconsistent; answers compare after normalisation', () => {
    const one = { ...set.reasoning!, items: [items[0]!] };
    expect(scoreReasoning(one, ['one'], [`${MARKER} one .`]).inconsistent).toBe(1);
    expect(scoreReasoning(one, ['one'], [`steps say One . ${MARKER} one .`]).inconsistent).toBe(0);
    expect(scoreReasoning(one, ['one'], [`steps say two . ${MARKER} one .`])).toMatchObject({ inconsistent: 1, chain: { accuracy: 1 } });
  });
});
