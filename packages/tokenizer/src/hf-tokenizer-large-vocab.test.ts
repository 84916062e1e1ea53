/**
 * Vocabularies the size of released LLMs' (Llama 3: 128,256 ids; Qwen 2/3: 151,665): loading
 * once overflowed V8's stack (a 150k-argument spread). A WordLevel vocabulary of that size with
 * Qwen's special tokens at Qwen's ids stands in for the real file, which is 11 MB.
 */
import { describe, expect, it } from 'vitest';
import { HfTokenizer } from './hf-tokenizer';

const QWEN_SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];

function largeVocabFiles(words: number): { tokenizer: Record<string, unknown>; config: Record<string, unknown> } {
  const vocab: Record<string, number> = { '[UNK]': 0 };
  for (let i = 1; i < words; i++) vocab[`w${i.toString(36)}`] = i;
  const tokenizer = {
    version: '1.0',
    added_tokens: QWEN_SPECIALS.map((content, i) => ({ id: words + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
  };
  const config = { eos_token: '<|im_end|>', pad_token: '<|endoftext|>', bos_token: null, chat_template: "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}" };
  return { tokenizer, config };
}

describe('HfTokenizer with a 150k vocabulary', () => {
  const { tokenizer, config } = largeVocabFiles(151_643);
  const tok = HfTokenizer.fromJson(tokenizer, config);

  it('loads, with special ids where Qwen has them and <image> past the vocabulary', () => {
    expect(tok.special.pad).toBe(151_643);
    expect(tok.special.eos).toBe(151_645);
    expect(tok.special.end).toBe(151_645);
    expect(tok.special.image).toBe(151_646);
    expect(tok.vocabSize).toBe(151_647);
    expect(HfTokenizer.fromJson(tokenizer, config, { modelVocabSize: 151_936 }).vocabSize).toBe(151_936);
  });

  it('lists every token by id and maps them both ways', () => {
    const tokens = tok.tokens();
    expect(tokens).toHaveLength(151_647);
    expect(tokens[151_642]).toBe(`w${(151_642).toString(36)}`);
    expect(tokens[151_644]).toBe('<|im_start|>');
    expect(tokens[151_646]).toBe('<image>');
    expect(tok.tokenToId(`w${(100_000).toString(36)}`)).toBe(100_000);
  });

  it('encodes and decodes a text longer than V8 takes as call arguments', () => {
    const words = Array.from({ length: 200_000 }, (_, i) => `w${((i % 151_642) + 1).toString(36)}`);
    const ids = tok.encode(words.join(' '));
    expect(ids).toHaveLength(200_000);
    expect(ids[199_999]).toBe((199_999 % 151_642) + 1);
    expect(tok.decode(ids.slice(0, 3))).toBe('w1 w2 w3');
  });
});
