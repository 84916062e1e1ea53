import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WordTokenizer } from './word-tokenizer';
import { SPECIAL_TOKENS, preTokenize } from './special-tokens';
import { HfTokenizer } from './hf-tokenizer';
import { TokenizerFileError } from './tokenizer-file-error';
import { tinyHfTokenizerFiles } from './hf-tokenizer.test-helper';

const corpus = [
  'a large red circle at the top left .',
  'is there a red circle in the image ?',
  'a small blue square at the bottom right and a large red circle at the top left .',
];

describe('preTokenize', () => {
  it('lower-cases, splits punctuation and keeps special literals whole', () => {
    expect(preTokenize('<image>\nIs there a Red circle?')).toEqual(['<image>', 'is', 'there', 'a', 'red', 'circle', '?']);
    expect(preTokenize('yes,no;ok:done!<|end|><eos>')).toEqual(['yes', ',', 'no', ';', 'ok', ':', 'done', '!', '<|end|>', '<eos>']);
  });
});

describe('WordTokenizer', () => {
  const tok = WordTokenizer.train(corpus);

  it('puts specials at fixed ids, then words by frequency desc, ties alphabetical', () => {
    expect(tok.tokens().slice(0, 8)).toEqual([...SPECIAL_TOKENS]);
    expect(tok.special).toEqual({ pad: 0, bos: 1, eos: 2, unk: 3, image: 4, user: 5, assistant: 6, end: 7 });
    // a, the: 4; at, circle, red: 3; ".", large, left, top: 2 (ties by code unit: "." first)
    expect(tok.tokens().slice(8, 13)).toEqual(['a', 'the', 'at', 'circle', 'red']);
    expect(tok.tokens().slice(13, 17)).toEqual(['.', 'large', 'left', 'top']);
    expect(WordTokenizer.train([...corpus].reverse()).tokens()).toEqual(tok.tokens());
  });

  it('round-trips canonical text and maps special literals', () => {
    for (const text of corpus) expect(tok.decode(tok.encode(text))).toBe(text);
    const ids = tok.encode('<image>\nis there a red circle ?');
    expect(ids[0]).toBe(tok.special.image);
    expect(tok.decode(ids)).toBe('is there a red circle ?');
    expect(tok.decode(ids, { skipSpecial: false })).toBe('<image> is there a red circle ?');
  });

  it('takes empty and image-only inputs', () => {
    expect(tok.encode('')).toEqual([]);
    expect(tok.encode('  \n ')).toEqual([]);
    expect(tok.decode([])).toBe('');
    expect(tok.encode('<image>')).toEqual([tok.special.image]);
    expect(tok.decode([tok.special.image])).toBe('');
  });

  it('maps unknown words to <unk>', () => {
    const ids = tok.encode('a purple circle');
    expect(ids).toEqual([tok.tokenToId('a'), tok.special.unk, tok.tokenToId('circle')]);
    expect(tok.decode(ids, { skipSpecial: false })).toBe('a <unk> circle');
    expect(tok.tokenToId('purple')).toBeUndefined();
    expect(tok.idToToken(tok.tokenToId('red')!)).toBe('red');
  });

  it('drops rare words with minFrequency', () => {
    const rare = WordTokenizer.train(corpus, { minFrequency: 2 });
    expect(rare.tokenToId('square')).toBeUndefined();
    expect(rare.tokenToId('red')).toBeDefined();
  });

  it('caps the vocabulary at maxVocab: the most frequent words stay, ties alphabetical, and the cut is reported', () => {
    const full = WordTokenizer.train(corpus);
    const reports: { words: number; kept: number }[] = [];
    const capped = WordTokenizer.train(corpus, { maxVocab: SPECIAL_TOKENS.length + 5, onCapped: (info) => reports.push(info) });
    expect(capped.vocabSize).toBe(SPECIAL_TOKENS.length + 5);
    // the same ids as the uncapped vocabulary, cut after its fifth word
    expect(capped.tokens()).toEqual(full.tokens().slice(0, SPECIAL_TOKENS.length + 5));
    expect(reports).toEqual([{ words: full.vocabSize - SPECIAL_TOKENS.length, kept: 5 }]);
    // counted by hand: 'a' and 'the' 4 times, 'at' 'circle' 'red' 3 times; 'large' 'left' 'top' '.' twice are cut
    expect(capped.tokens().slice(SPECIAL_TOKENS.length)).toEqual(['a', 'the', 'at', 'circle', 'red']);
    expect(capped.encode('a small square')).toEqual([capped.tokenToId('a'), capped.special.unk, capped.special.unk]);
    WordTokenizer.train(corpus, { maxVocab: full.vocabSize, onCapped: (info) => reports.push(info) });
    expect(reports).toHaveLength(1); // at the cap exactly: nothing left out, nothing reported
    expect(() => WordTokenizer.train(corpus, { maxVocab: SPECIAL_TOKENS.length })).toThrow(/maxVocab must be above the 8 special tokens/);
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => tok.decode([tok.vocabSize])).toThrow(/outside the vocabulary/);
  });
});

describe('HuggingFace files', () => {
  const tok = WordTokenizer.train(corpus);

  it('writes valid WordLevel tokenizer.json and a config with the chat template', () => {
    const files = tok.toFiles();
    const json = JSON.parse(files['tokenizer.json']!);
    expect(json.model.type).toBe('WordLevel');
    expect(json.model.unk_token).toBe('<unk>');
    expect(json.model.vocab['<image>']).toBe(4);
    expect(Object.keys(json.model.vocab)).toHaveLength(tok.vocabSize);
    expect(json.added_tokens.map((t: { content: string }) => t.content)).toEqual([...SPECIAL_TOKENS]);
    expect(json.added_tokens.every((t: { special: boolean; id: number }, i: number) => t.special && t.id === i)).toBe(true);
    expect(json.pre_tokenizer.type).toBe('Sequence');
    const config = JSON.parse(files['tokenizer_config.json']!);
    expect(config).toMatchObject({ bos_token: '<bos>', eos_token: '<eos>', pad_token: '<pad>', unk_token: '<unk>' });
    expect(config.chat_template).toContain('<|assistant|>');
  });

  it('fromFiles and save/load give identical ids', async () => {
    const text = '<image>\nis there a blue square at the top left ? no .';
    expect(WordTokenizer.fromFiles(tok.toFiles()).encode(text)).toEqual(tok.encode(text));
    const dir = mkdtempSync(join(tmpdir(), 'tok-'));
    try {
      await tok.save(dir);
      const loaded = await WordTokenizer.load(dir);
      expect(loaded.tokens()).toEqual(tok.tokens());
      expect(loaded.encode(text)).toEqual(tok.encode(text));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a missing or broken file', async () => {
    const files = tok.toFiles();
    expect(() => WordTokenizer.fromFiles({ 'tokenizer.json': files['tokenizer.json']! })).toThrow(/^tokenizer_config\.json: missing; WordTokenizer.fromFiles needs both/);
    expect(() => WordTokenizer.fromFiles({ ...files, 'tokenizer.json': '{' })).toThrow(/^tokenizer\.json: is not a valid JSON object/);
    const bpe = JSON.parse(files['tokenizer.json']!);
    bpe.model.type = 'BPE';
    expect(() => WordTokenizer.fromFiles({ ...files, 'tokenizer.json': JSON.stringify(bpe) })).toThrow(/WordLevel/);
    const dir = mkdtempSync(join(tmpdir(), 'tok-'));
    await expect(WordTokenizer.load(dir)).rejects.toThrow(/tokenizer\.json: not found; a run folder gets it from mllm run/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the damaged file of a folder by its path, as a TokenizerFileError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tok-'));
    try {
      await tok.save(dir);
      writeFileSync(join(dir, 'tokenizer.json'), 'garbage{');
      const error = await WordTokenizer.load(dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenizerFileError);
      expect((error as TokenizerFileError).file).toBe(join(dir, 'tokenizer.json'));
      expect((error as Error).message).toMatch(new RegExp(`^${join(dir, 'tokenizer.json')}: is not a valid JSON object: .*; the file is damaged`));
      writeFileSync(join(dir, 'tokenizer.json'), '[1, 2]');
      await expect(WordTokenizer.load(dir)).rejects.toThrow(/tokenizer\.json: is not a valid JSON object: not a JSON object/);
      rmSync(join(dir, 'tokenizer_config.json'));
      mkdirSync(join(dir, 'tokenizer_config.json'));
      await expect(WordTokenizer.load(dir)).rejects.toThrow(/tokenizer_config\.json: is a folder, a file was expected/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the words it lacks, once each, as encode reads them (lower case, punctuation split off)', () => {
    const tok = WordTokenizer.train(corpus); // "is", "in", "?" and "red" are in it; "what", "this", "picture" and "," are not
    const text = 'What is in this Picture? this picture, <image> red circle';
    expect(tok.unknownWords(text)).toEqual(['what', 'this', 'picture', ',']);
    // exactly the words encode turns into <unk>
    const words = preTokenize(text);
    const unk = words.filter((_, i) => tok.encode(text)[i] === tok.special.unk);
    expect([...new Set(unk)]).toEqual(tok.unknownWords(text));
    expect(tok.unknownWords('is there a red circle in the image ?')).toEqual([]);
    expect(tok.unknownWords('')).toEqual([]);
  });
});

describe('HfTokenizer.unknownWords', () => {
  it('is empty: subword pieces spell any word', async () => {
    const files = tinyHfTokenizerFiles();
    const hf = HfTokenizer.fromJson(JSON.parse(files['tokenizer.json']), JSON.parse(files['tokenizer_config.json']));
    expect(hf.unknownWords('a zebra nobody trained on')).toEqual([]);
  });
});
