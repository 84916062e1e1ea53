import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpeTokenizer } from './bpe-tokenizer';
import { HfTokenizer, loadTokenizer } from './hf-tokenizer';
import { WordTokenizer } from './word-tokenizer';
import { applyChatTemplate } from './chat-template';
import { SPECIAL_IDS } from './special-tokens';
import { TokenizerFileError } from './tokenizer-file-error';
import { sentenceCorpus } from './bpe.test-helper';

const tok = BpeTokenizer.train(sentenceCorpus(), { vocabSize: 512 });

/** Texts the corpus never showed: unicode of every width, digits, punctuation, whitespace runs, unseen words, special literals. */
const UNSEEN = [
  'how many objects are in the image ?',
  'Is there a MAGENTA hexagon? 🦄 naïve café — 東京 ½ ∑',
  'zebra\tquokka\n\n  two  spaces, trailing space ',
  "it's 3.14159 + 42 = 45.14159; (ok) [done] {x: 1} <not-special> \"quoted\"",
  '<image>\nwhat colour is the 🟥 ?<|end|>',
  'e\u0301 combining, \u200b zero width, \u0000 nul, \r\n crlf',
  '',
];

describe('BpeTokenizer', () => {
  it('encodes every string without <unk> and decodes it back exactly', () => {
    for (const text of UNSEEN) {
      const ids = tok.encode(text);
      expect(ids, JSON.stringify(text)).not.toContain(SPECIAL_IDS.unk);
      expect(tok.decode(ids, { skipSpecial: false }), JSON.stringify(text)).toBe(text);
      expect(tok.unknownWords(text)).toEqual([]);
    }
  });

  it('encodes a repeated text to the same ids, and a caller changing its ids changes no later encode', () => {
    const first = tok.encode('is there a red circle ?');
    first.push(999);
    expect(tok.encode('is there a red circle ?')).toEqual(first.slice(0, -1));
  });

  it('gives a trained word one token and spells an unseen one from smaller pieces', () => {
    const pieces = (text: string) => tok.encode(text).map((id) => tok.idToToken(id));
    expect(pieces('is there a red circle in the image ?')).toEqual(['is', 'Ġthere', 'Ġa', 'Ġred', 'Ġcircle', 'Ġin', 'Ġthe', 'Ġimage', 'Ġ?']);
    const zebra = pieces('a zebra');
    expect(zebra.length).toBeGreaterThan(2);
    expect(zebra.join('')).toBe('aĠzebra');
  });

  it('keeps the special tokens at ids 0-7, whole, and leaves them out of decode unless asked', () => {
    expect(tok.special).toEqual(SPECIAL_IDS);
    expect(tok.tokens().slice(0, 8)).toEqual(['<pad>', '<bos>', '<eos>', '<unk>', '<image>', '<|user|>', '<|assistant|>', '<|end|>']);
    const ids = tok.encode('<image>\nred<|end|>');
    expect(ids[0]).toBe(SPECIAL_IDS.image);
    expect(ids[ids.length - 1]).toBe(SPECIAL_IDS.end);
    expect(tok.decode(ids)).toBe('\nred');
    expect(tok.decode([])).toBe('');
    expect(() => tok.decode([tok.vocabSize])).toThrow(/outside the vocabulary/);
  });

  it('saves HF files that load back to the same tokenizer, recorded as bpe for loadTokenizer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpe-tok-'));
    await tok.save(dir);
    const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    expect(config.mllm_tokenizer).toBe('bpe');
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { model: { type: string; merges: unknown[] }; pre_tokenizer: { type: string }; decoder: { type: string } };
    expect([json.model.type, json.pre_tokenizer.type, json.decoder.type]).toEqual(['BPE', 'ByteLevel', 'ByteLevel']);
    expect(json.model.merges).toEqual(tok.mergeList());
    const back = await loadTokenizer(dir);
    expect(back).toBeInstanceOf(BpeTokenizer);
    expect(back.tokens()).toEqual(tok.tokens());
    for (const text of UNSEEN) expect(back.encode(text)).toEqual(tok.encode(text));
    // a word tokenizer's folder still loads as one
    const wordDir = mkdtempSync(join(tmpdir(), 'word-tok-'));
    await WordTokenizer.train(sentenceCorpus()).save(wordDir);
    expect(await loadTokenizer(wordDir)).toBeInstanceOf(WordTokenizer);
  });

  it('gives the same ids, text and chat template as HfTokenizer reading its saved folder (the HF reference)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpe-hf-'));
    await tok.save(dir);
    const hf = await HfTokenizer.load(dir);
    expect(hf.special).toEqual(tok.special);
    expect(hf.vocabSize).toBe(tok.vocabSize);
    for (const text of [...UNSEEN, ...sentenceCorpus()]) {
      expect(hf.encode(text), JSON.stringify(text)).toEqual(tok.encode(text));
      expect(hf.decode(tok.encode(text), { skipSpecial: false })).toBe(text);
    }
    const conversation = [
      { from: 'system' as const, value: 'Answer briefly.' },
      { from: 'human' as const, value: '<image>\nhow many objects are in the image ?' },
      { from: 'gpt' as const, value: 'there are 3 objects .' },
      { from: 'human' as const, value: 'what colour is the zebra ?' },
      { from: 'gpt' as const, value: 'it is purple .' },
    ];
    const ours = applyChatTemplate(tok, conversation);
    const theirs = hf.templated(conversation);
    expect(theirs.ids).toEqual(ours.ids);
    expect(theirs.lossMask).toEqual(ours.lossMask);
    expect(hf.templated(conversation.slice(0, 2), { addGenerationPrompt: true }).ids).toEqual(applyChatTemplate(tok, conversation.slice(0, 2), { addGenerationPrompt: true }).ids);
  });

  it('refuses files that are not its layout, naming the file and the field', async () => {
    const files = tok.toFiles();
    expect(() => BpeTokenizer.fromFiles(WordTokenizer.train(sentenceCorpus()).toFiles())).toThrow(/tokenizer\.json: model\.type must be "BPE"/);
    const json = JSON.parse(files['tokenizer.json']!) as { model: { vocab: Record<string, number> } };
    delete json.model.vocab['Ā']; // byte 0
    const dir = mkdtempSync(join(tmpdir(), 'bpe-bad-'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    writeFileSync(join(dir, 'tokenizer_config.json'), files['tokenizer_config.json']!);
    const error = await BpeTokenizer.load(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenizerFileError);
    expect((error as Error).message).toContain(`${join(dir, 'tokenizer.json')}: model.vocab[`);
    const model = { ...JSON.parse(files['tokenizer.json']!).model, merges: [['q', 'zz']] };
    expect(() => BpeTokenizer.fromFiles({ ...files, 'tokenizer.json': JSON.stringify({ ...JSON.parse(files['tokenizer.json']!), model }) })).toThrow(
      /tokenizer\.json: merge 0 \("q" "zz"\) uses "zz", which is not in the vocabulary/,
    );
  });
});
