import { describe, expect, it } from 'vitest';
import { StreamedAnswer } from './streamed-answer';

/** A byte-level tokenizer at its simplest: each id is one UTF-8 byte, decoded as the whole answer. */
const bytes = (ids: number[]) => new TextDecoder().decode(Uint8Array.from(ids));
const utf8 = (text: string) => [...new TextEncoder().encode(text)];

describe('StreamedAnswer', () => {
  it('shows what each token adds to the decoded answer, holding the bytes of a character until it is whole', () => {
    const answer = new StreamedAnswer(bytes);
    const shown = utf8('a é!').map((id) => answer.push(id));
    expect(shown).toEqual(['a', ' ', '', 'é', '!']);
    expect(answer.pieces).toEqual(['a', ' ', 'é', '!']);
    expect(answer.text).toBe('a é!');
    // a piece's probability is the product of its tokens': é is two bytes
    expect(answer.pieceProbabilities([0.5, 0.9, 0.8, 0.5, 0.1])).toEqual([0.5, 0.9, 0.4, 0.1]);
  });

  it('shows a character left incomplete at the end when the answer finishes, as mllm chat prints it', () => {
    const answer = new StreamedAnswer(bytes);
    expect([0x6f, 0x6b, 0xc3].map((id) => answer.push(id))).toEqual(['o', 'k', '']);
    expect(answer.finish()).toBe('\uFFFD');
    expect(answer.text).toBe('ok\uFFFD');
    expect(answer.finish()).toBe('');
  });

  it("joins a word tokenizer's words with the spaces its decode puts between them", () => {
    const vocabulary = ['a', 'red', 'circle', '.'];
    const answer = new StreamedAnswer((ids) => ids.map((id) => vocabulary[id]).join(' '));
    expect([0, 1, 2, 3].map((id) => answer.push(id))).toEqual(['a', ' red', ' circle', ' .']);
  });
});
