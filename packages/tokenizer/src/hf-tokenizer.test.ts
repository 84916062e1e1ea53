import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HfTokenizer, loadTokenizer } from './hf-tokenizer';
import { applyChatTemplate } from './chat-template';
import { WordTokenizer } from './word-tokenizer';
import { TokenizerFileError } from './tokenizer-file-error';
import { tinyHfTokenizerFiles } from './hf-tokenizer.test-helper';

async function tinyFolder(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'hf-tok-'));
  const files = tinyHfTokenizerFiles();
  writeFileSync(join(dir, 'tokenizer.json'), files['tokenizer.json']);
  writeFileSync(join(dir, 'tokenizer_config.json'), files['tokenizer_config.json']);
  return dir;
}

const conversation = [
  { from: 'human' as const, value: '<image>\nwhat color ?' },
  { from: 'gpt' as const, value: 'red' },
  { from: 'human' as const, value: 'what ?' },
  { from: 'gpt' as const, value: 'color red' },
];

describe('HfTokenizer', () => {
  it('reads special ids from tokenizer_config.json and gives <image> the first id past the vocabulary', async () => {
    const tok = await HfTokenizer.load(await tinyFolder());
    const size = tinyHfTokenizerFiles().vocabSize;
    expect(tok.special).toMatchObject({ unk: 0, bos: 1, eos: 2, pad: 2, end: 2, image: size });
    expect(tok.vocabSize).toBe(size + 1);
    expect((await HfTokenizer.load(await tinyFolder(), { modelVocabSize: 200 })).vocabSize).toBe(200);
  });

  it('encodes with the BPE merges and without bos, keeps <image> whole, and decodes back', async () => {
    const tok = await HfTokenizer.load(await tinyFolder());
    const ids = tok.encode('what color red');
    expect(ids.map((id) => tok.idToToken(id))).toEqual(['▁wha', 't', '▁color', '▁red']);
    expect(tok.decode(ids)).toBe('what color red');
    const withImage = tok.encode('<image>\nwhat');
    expect(withImage[0]).toBe(tok.special.image);
    expect(withImage.filter((id) => id === tok.special.image)).toHaveLength(1);
    expect(tok.decode(withImage)).not.toContain('<image>');
  });

  it('renders the chat_template and masks exactly the assistant answers and their </s>', async () => {
    const tok = await HfTokenizer.load(await tinyFolder());
    expect(tok.render(conversation)).toBe('<s>[INST] <image>\nwhat color ? [/INST] red </s>[INST] what ? [/INST] color red </s>');
    const { ids, lossMask } = applyChatTemplate(tok, conversation);
    expect(ids).toHaveLength(lossMask.length);
    expect(ids[0]).toBe(tok.special.bos);
    expect(ids.filter((id) => id === tok.special.image)).toHaveLength(1);
    const trained = ids.filter((_, i) => lossMask[i] === 1);
    expect(tok.decode(trained, { skipSpecial: false })).toBe('red </s> color red </s>');
    const context = ids.filter((_, i) => lossMask[i] === 0);
    expect(tok.decode(context, { skipSpecial: false })).toContain('[INST] what ? [/INST]');
    expect(tok.decode(context, { skipSpecial: false })).not.toContain('red');
  });

  it('takes empty and image-only inputs: decode([]) is the empty string, as in transformers', async () => {
    const tok = await HfTokenizer.load(await tinyFolder());
    expect(tok.decode([])).toBe('');
    expect(tok.decode([], { skipSpecial: false })).toBe('');
    expect(tok.decode([tok.special.image])).toBe('');
    expect(tok.decode([tok.special.eos])).toBe('');
    expect(tok.encode('')).toEqual([]);
    expect(tok.encode('<image>')).toEqual([tok.special.image]);
    expect(tok.encode('<image><image>')).toEqual([tok.special.image, tok.special.image]);
  });

  it('renders a system turn with the system role, untrained; a template without one raises, as in Python', async () => {
    const tok = await HfTokenizer.load(await tinyFolder());
    // the tiny Llama 2 template has no system branch: it renders the message in its else (assistant) branch,
    // exactly what transformers does with it; the mask still trains only the gpt turns
    const withSystem = [{ from: 'system' as const, value: 'be brief' }, ...conversation];
    expect(tok.render(withSystem).startsWith('<s> be brief </s>[INST]')).toBe(true);
    const { ids, lossMask } = applyChatTemplate(tok, withSystem);
    expect(tok.decode(ids.filter((_, i) => lossMask[i] === 1), { skipSpecial: false })).toBe('red </s> color red </s>');
  });

  it('round-trips through a run folder: loadTokenizer tells an HF tokenizer from a word-level one', async () => {
    const tok = await HfTokenizer.load(await tinyFolder(), { modelVocabSize: 150 });
    const run = mkdtempSync(join(tmpdir(), 'hf-tok-run-'));
    await tok.save(run);
    const back = await loadTokenizer(run);
    expect(back).toBeInstanceOf(HfTokenizer);
    expect(back.vocabSize).toBe(150);
    expect(back.encode('what color ?')).toEqual(tok.encode('what color ?'));
    const words = WordTokenizer.train(['a red circle']);
    const wordRun = mkdtempSync(join(tmpdir(), 'word-run-'));
    await words.save(wordRun);
    const reopened = await loadTokenizer(wordRun);
    expect(reopened).not.toBeInstanceOf(HfTokenizer);
    expect(reopened.encode('red circle')).toEqual(words.encode('red circle'));
  });

  it('names the missing file', async () => {
    await expect(HfTokenizer.load(mkdtempSync(join(tmpdir(), 'empty-')))).rejects.toThrow(/tokenizer\.json: not found; an HF model folder needs/);
  });

  it('names a garbage tokenizer.json by path, whether it is not JSON or not a tokenizer', async () => {
    const dir = await tinyFolder();
    writeFileSync(join(dir, 'tokenizer.json'), '\u0000\u0001 not json');
    const notJson = await HfTokenizer.load(dir).catch((e: unknown) => e);
    expect(notJson).toBeInstanceOf(TokenizerFileError);
    expect((notJson as Error).message).toMatch(new RegExp(`^${join(dir, 'tokenizer.json')}: is not valid JSON \\(`));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab: 7 } }));
    const notTokenizer = await HfTokenizer.load(dir).catch((e: unknown) => e);
    expect(notTokenizer).toBeInstanceOf(TokenizerFileError);
    expect((notTokenizer as Error).message).toMatch(/tokenizer\.json: with tokenizer_config\.json, not a tokenizer @huggingface\/tokenizers can load \(.+\); save it again/);
  });
});
