import { describe, expect, it } from 'vitest';
import { WordTokenizer, applyChatTemplate, type TextTokenizer } from '@mllm/tokenizer';
import { untrainReplyWords } from './untrained-words';

const reply = 'the top left has a small blue circle , not red . so the answer is zero .';
const tokenizer = WordTokenizer.train([reply, 'how many red objects are there ?']);
const conversation = [
  { from: 'human' as const, value: 'how many red objects are there ?' },
  { from: 'gpt' as const, value: reply },
];

describe('untrainReplyWords', () => {
  it('clears the loss on exactly the named words of the last reply', () => {
    const { ids, lossMask } = applyChatTemplate(tokenizer, conversation);
    const before = [...lossMask];
    untrainReplyWords(tokenizer, reply, [6], ids, lossMask); // "blue"
    const cleared = before.map((m, i) => (m === 1 && lossMask[i] === 0 ? i : -1)).filter((i) => i >= 0);
    expect(cleared).toHaveLength(1);
    expect(tokenizer.decode([ids[cleared[0]!]!])).toBe('blue');
  });

  it("refuses a tokenizer whose tokens do not split at the reply's spaces, and a word outside the reply", () => {
    // a tokenizer that reads "small blue" as one token: "blue" has no token of its own to clear
    const merging: TextTokenizer = Object.create(tokenizer, {
      encode: { value: (text: string) => tokenizer.encode(text.replace('small blue', 'small')) },
    });
    const { ids, lossMask } = applyChatTemplate(merging, conversation);
    expect(() => untrainReplyWords(merging, reply, [6], ids, lossMask)).toThrow(/word 6 \("blue"\) has no tokens of its own.*split at the reply's spaces/);
    const plain = applyChatTemplate(tokenizer, conversation);
    expect(() => untrainReplyWords(tokenizer, reply, [40], plain.ids, plain.lossMask)).toThrow(/word 40 is outside the reply's 18 words/);
  });
});
