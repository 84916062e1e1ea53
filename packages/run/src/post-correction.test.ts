import { describe, it, expect } from 'vitest';
import { fixedExpert } from '@mllm/correct';
import type { Answerer } from '@mllm/eval';
import { correctingAnswerer, revisingAnswerer } from './post-correction';

// scene a: a small red circle at the top left; scene b: nothing
const seen = { a: [{ color: 'red', shape: 'circle', size: 'small', cell: 'top left' }], b: [] };
const replies: Record<string, string> = {
  'is there a red circle ?': 'yes',
  'how many objects are there ?': 'one',
  'describe the image .': 'there is one object in the image . a large red circle is at the top left .',
};
const fake: Answerer = { answer: async (requests) => requests.map((r) => replies[r.prompt]!) };

describe('correctingAnswerer: Woodpecker post-correction over any answerer', () => {
  it('rewrites what the expert contradicts, leaves answers that name no object, and logs each change with its claims', async () => {
    const experts: string[] = [];
    const answerer = correctingAnswerer(fake, (id) => (experts.push(id), fixedExpert(seen[id as 'a' | 'b'])));
    const asked = [
      { sceneId: 'a', prompt: 'is there a red circle ?' },
      { sceneId: 'a', prompt: 'how many objects are there ?' },
      { sceneId: 'a', prompt: 'describe the image .' },
      { sceneId: 'b', prompt: 'describe the image .' },
    ];
    const out = await answerer.answer(asked);
    expect(out).toEqual(['yes', 'one', 'there is one object in the image . a small red circle is at the top left .', 'there are zero objects in the image .']);
    expect(answerer.log).toMatchObject({ answers: 4, changed: 2, corrections: 3 });
    expect(answerer.log.samples.map((s) => [s.sceneId, s.answer === replies['describe the image .']])).toEqual([['a', true], ['b', true]]);
    expect(answerer.log.samples[0]!.corrections).toEqual([{ before: 'large', after: 'small', claim: 'the red circle is small' }]);
    // one expert per scene, asked again for the next batch
    await answerer.answer(asked.slice(0, 1));
    expect(experts).toEqual(['a', 'b']);
  });

  it('revisingAnswerer (LURE) sends every reply that names an object back to the revisor with its image, and keeps the others', async () => {
    const asked: { sceneId: string; prompt: string }[] = [];
    const reviser: Answerer = { answer: async (requests) => (asked.push(...requests), requests.map(() => 'a small red circle is at the top left .')) };
    const answerer = revisingAnswerer(fake, reviser);
    const out = await answerer.answer([
      { sceneId: 'a', prompt: 'is there a red circle ?' },
      { sceneId: 'a', prompt: 'describe the image .' },
      { sceneId: 'b', prompt: 'how many objects are there ?' },
    ]);
    expect(out).toEqual(['yes', 'a small red circle is at the top left .', 'one']);
    expect(asked).toEqual([{ sceneId: 'a', prompt: `revise the description : ${replies['describe the image .']}` }]);
    expect(answerer.log).toMatchObject({ answers: 3, changed: 1, corrections: 0 });
    expect(answerer.log.samples).toEqual([{ sceneId: 'a', prompt: 'describe the image .', answer: replies['describe the image .'], corrected: out[1], corrections: [] }]);
  });
});
