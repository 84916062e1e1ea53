import { Tokenizer } from '@huggingface/tokenizers';
import { SPECIAL_IDS, SPECIAL_TOKENS } from './special-tokens';
import type { SpecialIds } from './special-tokens';
import type { DecodeOptions, TextTokenizer } from './text-tokenizer';
import { BYTE_CHARS } from './byte-level';
import { trainBpe, type BpeTrainOptions } from './bpe-trainer';
import { fromBpeFiles, toBpeFiles } from './bpe-files';
import { readTokenizerFolder, writeTokenizerFolder } from './tokenizer-folder';
import { TokenizerFileError } from './tokenizer-file-error';

/** Texts whose ids are kept; past it the memo starts again (a few MB at the Shapes world's sentence lengths). */
const MEMO_SIZE = 20_000;

/**
 * Byte-level BPE tokenizer (GPT-2's): text is UTF-8 bytes, so every string encodes and
 * decode(encode(s)) === s; words seen in training become one or few tokens, an unseen word is
 * spelt from smaller pieces, down to single bytes. Ids: the special tokens 0-7, the 256 bytes,
 * then the learned merges in order. Encoding and decoding run through `@huggingface/tokenizers`
 * on the tokenizer.json this class saves, so a saved folder gives the same ids in HF.
 */
export class BpeTokenizer implements TextTokenizer {
  readonly special: Readonly<SpecialIds> = SPECIAL_IDS;
  private readonly vocab: readonly string[];
  private readonly merges: readonly (readonly [string, string])[];
  private readonly hf: Tokenizer;
  /** Ids of texts encoded before: training encodes the same templated questions and captions again and again. */
  private readonly memo = new Map<string, readonly number[]>();

  /** `vocab[i]` is the token of id i: SPECIAL_TOKENS, then every byte character, then merge results; each merge's parts and result must be tokens. */
  constructor(model: { vocab: readonly string[]; merges: readonly (readonly [string, string])[] }) {
    const { vocab, merges } = model;
    SPECIAL_TOKENS.forEach((t, i) => {
      if (vocab[i] !== t) throw new Error(`BpeTokenizer: id ${i} must be the special token ${t}, got ${JSON.stringify(vocab[i])}; build with BpeTokenizer.train`);
    });
    const ids = new Map<string, number>();
    vocab.forEach((t, i) => {
      if (ids.has(t)) throw new Error(`BpeTokenizer: token ${JSON.stringify(t)} appears twice (ids ${ids.get(t)} and ${i})`);
      ids.set(t, i);
    });
    const missingByte = BYTE_CHARS.findIndex((c) => !ids.has(c));
    if (missingByte >= 0) throw new Error(`BpeTokenizer: byte ${missingByte} (${JSON.stringify(BYTE_CHARS[missingByte])}) is not in the vocabulary; every byte needs a token so no text is unknown`);
    merges.forEach(([a, b], i) => {
      const bad = [a, b, a + b].find((t) => !ids.has(t));
      if (bad !== undefined) throw new Error(`BpeTokenizer: merge ${i} (${JSON.stringify(a)} ${JSON.stringify(b)}) uses ${JSON.stringify(bad)}, which is not in the vocabulary`);
    });
    this.vocab = [...vocab];
    this.merges = merges.map(([a, b]) => [a, b] as const);
    const files = toBpeFiles(this.vocab, this.merges);
    this.hf = new Tokenizer(JSON.parse(files['tokenizer.json']!), JSON.parse(files['tokenizer_config.json']!));
  }

  /** Learns merges from `corpus` (see trainBpe): the same corpus and options give the same tokenizer. */
  static train(corpus: readonly string[], options: BpeTrainOptions): BpeTokenizer {
    const { vocab, merges } = trainBpe(corpus, options);
    return new BpeTokenizer({ vocab, merges });
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  /** All tokens, index = id, in byte-level spelling ("Ġred" is " red"). */
  tokens(): readonly string[] {
    return this.vocab;
  }

  /** The merges, in rank order. */
  mergeList(): readonly (readonly [string, string])[] {
    return this.merges;
  }

  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.vocab[id];
  }

  /** Text -> ids, never an unknown token; special literals such as "<image>" map to their ids. */
  encode(text: string): number[] {
    let ids = this.memo.get(text);
    if (ids === undefined) {
      // @huggingface/tokenizers takes ~20x the word tokenizer's time per string; the memo makes a repeat a lookup
      ids = text === '' ? [] : this.hf.encode(text, { add_special_tokens: false }).ids;
      if (this.memo.size >= MEMO_SIZE) this.memo.clear();
      this.memo.set(text, ids);
    }
    return [...ids];
  }

  /** Always empty: a word the merges never saw is spelt from smaller pieces, down to bytes. */
  unknownWords(_text: string): string[] {
    return [];
  }

  /** Ids -> the exact text they encode. Throws on an id outside the vocabulary. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    for (const id of ids) {
      if (!(Number.isInteger(id) && id >= 0 && id < this.vocab.length)) throw new Error(`BpeTokenizer.decode: id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    }
    // @huggingface/tokenizers throws on an empty list
    return ids.length === 0 ? '' : this.hf.decode([...ids], { skip_special_tokens: options.skipSpecial ?? true });
  }

  /** HuggingFace files: tokenizer.json (BPE, ByteLevel) and tokenizer_config.json (with chat_template). */
  toFiles(): Record<string, string> {
    return toBpeFiles(this.vocab, this.merges);
  }

  static fromFiles(files: Record<string, string>): BpeTokenizer {
    const model = fromBpeFiles(files);
    try {
      return new BpeTokenizer(model);
    } catch (cause) {
      // a vocabulary or merge list that parses but breaks an invariant: the file is what is wrong
      throw new TokenizerFileError('tokenizer.json', (cause as Error).message.replace(/^BpeTokenizer: /, ''), { cause });
    }
  }

  async save(dir: string): Promise<void> {
    await writeTokenizerFolder(dir, this.toFiles());
  }

  static async load(dir: string): Promise<BpeTokenizer> {
    return readTokenizerFolder(dir, (files) => BpeTokenizer.fromFiles(files));
  }
}
