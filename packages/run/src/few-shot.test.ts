import { describe, it, expect } from 'vitest';
import { MllmError } from '@mllm/core';
import { ShapesWorld } from '@mllm/data';
import type { TokenizedSample } from '@mllm/model';
import { WordTokenizer, renderChatTemplate } from '@mllm/tokenizer';
import { modelAnswerer } from './answerer';
import { checkDemonstrations, fewShotImages, fewShotPromptIds, fewShotTurns } from './few-shot';

const world = new ShapesWorld({ seed: 2, imageSize: 16, sizes: { train: 4, val: 0, test: 6 } });
const tokenizer = WordTokenizer.train([...world.corpus(), 'what word goes with the circle ? one two']);
const demos = [
  { image: 'A', question: 'what word goes with the circle ?', answer: 'one' },
  { image: 'B', question: 'what word goes with the circle ?', answer: 'two' },
];

describe('few-shot prompts', () => {
  it('lays out each demonstration as image + question, then answer, in order, before the query with its image', () => {
    expect(fewShotTurns(demos, 'what word goes with the circle ?')).toEqual([
      { from: 'human', value: '<image>\nwhat word goes with the circle ?' },
      { from: 'gpt', value: 'one' },
      { from: 'human', value: '<image>\nwhat word goes with the circle ?' },
      { from: 'gpt', value: 'two' },
      { from: 'human', value: '<image>\nwhat word goes with the circle ?' },
    ]);
    expect(fewShotImages(demos, 'Q')).toEqual(['A', 'B', 'Q']);
    // the ids are the chat template of those turns, ending where the model answers
    const ids = fewShotPromptIds(tokenizer, demos, 'what word goes with the circle ?');
    const text = renderChatTemplate(fewShotTurns(demos, 'what word goes with the circle ?'), { addGenerationPrompt: true });
    expect(ids).toEqual(tokenizer.encode(text));
    expect(ids.filter((id) => id === tokenizer.special.image)).toHaveLength(3);
    expect(ids.at(-1)).toBe(tokenizer.special.assistant);
    // no demonstrations: the plain single-image prompt
    expect(fewShotTurns([], 'how many objects are there ?')).toEqual([{ from: 'human', value: '<image>\nhow many objects are there ?' }]);
  });

  it('the model answerer feeds the demonstrations\' images first, then the query\'s', async () => {
    const seen: TokenizedSample[] = [];
    const fake = { generate: (prompts: TokenizedSample[]) => (seen.push(...prompts), prompts.map(() => [tokenizer.encode('two')[0]!])) };
    const [a, b, q] = world.scenes('test').map((s) => s.id);
    const answerer = modelAnswerer(fake as never, tokenizer, world, 4);
    const replies = await answerer.answer([
      { sceneId: q!, prompt: 'what word goes with the circle ?', demonstrations: [{ sceneId: a!, question: demos[0]!.question, answer: 'one' }, { sceneId: b!, question: demos[1]!.question, answer: 'two' }] },
      { sceneId: q!, prompt: 'how many objects are there ?' },
    ]);
    expect(replies).toEqual(['two', 'two']);
    expect(seen[0]!.images).toEqual([world.image(a!), world.image(b!), world.image(q!)]);
    expect(seen[0]!.ids.filter((id) => id === tokenizer.special.image)).toHaveLength(3);
    expect(seen[1]!.images).toEqual([world.image(q!)]);
  });

  it.each([
    [[{ image: 'A', question: '', answer: 'one' }], /demonstration 1: "question" is empty/],
    [[demos[0], { image: 'B', question: 'q ?' }], /demonstration 2: "answer" is missing/],
    [[{ image: 'A', question: '<image> what ?', answer: 'one' }], /demonstration 1: "question" holds "<image>"/],
    [[null], /demonstration 1 is null/],
  ])('rejects bad demonstrations with an MllmError saying which and why (%#)', (bad, message) => {
    expect(() => fewShotTurns(bad as never, 'q ?')).toThrow(MllmError);
    expect(() => fewShotTurns(bad as never, 'q ?')).toThrow(message);
  });

  it('asks for an image when the caller must give one', () => {
    expect(() => checkDemonstrations([{ question: 'q ?', answer: 'a' }], { images: true })).toThrow(/demonstration 1: "image" is missing/);
    expect(() => checkDemonstrations('nope' as never)).toThrow(/must be a list/);
  });
});
