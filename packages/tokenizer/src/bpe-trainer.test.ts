import { describe, it, expect } from 'vitest';
import { BPE_BASE_VOCAB, trainBpe } from './bpe-trainer';
import { BYTE_CHARS, byteLevelWords } from './byte-level';
import { BpeTokenizer } from './bpe-tokenizer';
import { SPECIAL_TOKENS } from './special-tokens';
import { sentenceCorpus } from './bpe.test-helper';

describe('byte-level words', () => {
  it('split like GPT-2 (a word keeps the space before it), cut out special literals, and spell bytes in the GPT-2 table', () => {
    expect(byteLevelWords('<image>\nwhat color ?')).toEqual(['Ċ', 'what', 'Ġcolor', 'Ġ?']);
    expect(byteLevelWords("it's 42  é")).toEqual(['it', "'s", 'Ġ42', 'Ġ', 'ĠÃ©']);
    // the table: printable ASCII is itself, space is U+0120, byte 0 is U+0100, 256 distinct characters
    expect([BYTE_CHARS[65], BYTE_CHARS[32], BYTE_CHARS[0], BYTE_CHARS[10]]).toEqual(['A', 'Ġ', 'Ā', 'Ċ']);
    expect(new Set(BYTE_CHARS).size).toBe(256);
  });
});

describe('trainBpe', () => {
  it('merges the most frequent pair first, counted over words weighted by frequency, and stops below minFrequency', () => {
    // words: "ab", "Ġab", "Ġabc" -> (a,b) x3, then (Ġ,ab) x2; (ab,c) is seen once
    const { vocab, merges } = trainBpe(['ab ab abc'], { vocabSize: 1000, minFrequency: 2 });
    expect(merges).toEqual([['a', 'b'], ['Ġ', 'ab']]);
    expect(vocab.slice(0, 8)).toEqual([...SPECIAL_TOKENS]);
    expect(vocab.slice(8, BPE_BASE_VOCAB)).toEqual(BYTE_CHARS);
    expect(vocab.slice(BPE_BASE_VOCAB)).toEqual(['ab', 'Ġab']);
    expect(trainBpe(['ab ab abc'], { vocabSize: 1000, minFrequency: 1 }).merges).toEqual([['a', 'b'], ['Ġ', 'ab'], ['Ġab', 'c']]);
  });

  it('breaks ties by the left token, then the right one, in code-unit order', () => {
    // "xy" and "Ġyx": three pairs seen once each; "x" < "y" < "Ġ" (U+0120)
    expect(trainBpe(['xy yx'], { vocabSize: 1000, minFrequency: 1 }).merges).toEqual([['x', 'y'], ['y', 'x'], ['Ġ', 'yx']]);
  });

  it('is deterministic: the same corpus in any order gives the same merges', () => {
    const corpus = sentenceCorpus();
    const a = trainBpe(corpus, { vocabSize: 1000, minFrequency: 1 });
    const b = trainBpe([...corpus].reverse(), { vocabSize: 1000, minFrequency: 1 });
    expect(a.merges.length).toBeGreaterThan(60);
    expect(b.vocab).toEqual(a.vocab);
    expect(b.merges).toEqual(a.merges);
  });

  it('keeps the vocabulary within vocabSize and stops when no pair is frequent enough', () => {
    expect(trainBpe(sentenceCorpus(), { vocabSize: 300 }).vocab).toHaveLength(300);
    expect(trainBpe(sentenceCorpus(), { vocabSize: BPE_BASE_VOCAB }).merges).toEqual([]);
    const saturated = trainBpe(['red red red'], { vocabSize: 1000 });
    expect(saturated.vocab.slice(BPE_BASE_VOCAB)).toEqual(['ed', 'red', 'Ġred']) // (e,d) and (r,e) tie at 3: "e" < "r";
  });

  it('splits each training word as @huggingface/tokenizers encodes it with the learned merges (merge ranks, overlapping runs)', () => {
    const corpus = [...sentenceCorpus(), 'aaaa aaa aa banana bananas mississippi', 'aaaa aaa aa banana bananas mississippi'];
    const model = trainBpe(corpus, { vocabSize: 420 });
    const tok = new BpeTokenizer(model);
    expect(model.segmented.size).toBeGreaterThan(30);
    for (const [word, pieces] of model.segmented) {
      const text = new TextDecoder().decode(Uint8Array.from(Array.from(word, (c) => BYTE_CHARS.indexOf(c))));
      expect(tok.encode(text).map((id) => tok.idToToken(id)), JSON.stringify(text)).toEqual(pieces);
    }
  });

  it('refuses a vocabSize below the specials and bytes and a minFrequency below 1', () => {
    expect(() => trainBpe(['a'], { vocabSize: 100 })).toThrow(/vocabSize must be an integer >= 264/);
    expect(() => trainBpe(['a'], { vocabSize: 300, minFrequency: 0 })).toThrow(/minFrequency must be an integer >= 1/);
  });
});
