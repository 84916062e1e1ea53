import { SPECIAL_IDS, SPECIAL_TOKENS, preTokenize } from './special-tokens';
import type { SpecialIds } from './special-tokens';
import { fromHfFiles, toHfFiles } from './hf-files';
import type { DecodeOptions, TextTokenizer } from './text-tokenizer';
import { readTokenizerFolder, writeTokenizerFolder } from './tokenizer-folder';

export type { DecodeOptions } from './text-tokenizer';

export interface TrainOptions {
  /** Words seen fewer times than this map to <unk>. Default 1 (keep every word). */
  minFrequency?: number;
  /**
   * At most this many tokens, the special tokens included: past it the least frequent words
   * map to <unk>, as a BPE or WordLevel trainer's vocab_size does. Default: no cap.
   */
  maxVocab?: number;
  /** Hears how many distinct words the corpus had (after minFrequency) when maxVocab left some out. */
  onCapped?: (info: { words: number; kept: number }) => void;
}

/**
 * Word-level tokenizer: one id per pre-tokenized word (see preTokenize). Ids are the special
 * tokens 0-7, then words by corpus frequency descending, ties alphabetical, so training on
 * the same corpus always gives the same ids. Saved as HuggingFace WordLevel tokenizer.json.
 */
export class WordTokenizer implements TextTokenizer {
  readonly special: Readonly<SpecialIds> = SPECIAL_IDS;
  private readonly vocab: readonly string[];
  private readonly ids: ReadonlyMap<string, number>;

  /** `vocab[i]` is the token of id i; it must start with SPECIAL_TOKENS in order. */
  constructor(vocab: readonly string[]) {
    SPECIAL_TOKENS.forEach((t, i) => {
      if (vocab[i] !== t) {
        throw new Error(`WordTokenizer: id ${i} must be the special token ${t}, got ${JSON.stringify(vocab[i])}; build with WordTokenizer.train`);
      }
    });
    const ids = new Map<string, number>();
    vocab.forEach((t, i) => {
      if (ids.has(t)) throw new Error(`WordTokenizer: token ${JSON.stringify(t)} appears twice (ids ${ids.get(t)} and ${i})`);
      ids.set(t, i);
    });
    this.vocab = [...vocab];
    this.ids = ids;
  }

  static train(corpus: readonly string[], options: TrainOptions = {}): WordTokenizer {
    const minFrequency = options.minFrequency ?? 1;
    if (!(minFrequency >= 1)) throw new Error(`WordTokenizer.train: minFrequency must be >= 1, got ${minFrequency}`);
    const counts = new Map<string, number>();
    const specials = new Set<string>(SPECIAL_TOKENS);
    for (const text of corpus) {
      for (const w of preTokenize(text)) if (!specials.has(w)) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    const maxWords = (options.maxVocab ?? Infinity) - SPECIAL_TOKENS.length;
    if (!(maxWords >= 1)) throw new Error(`WordTokenizer.train: maxVocab must be above the ${SPECIAL_TOKENS.length} special tokens, got ${options.maxVocab}`);
    const words = [...counts]
      .filter(([, n]) => n >= minFrequency)
      .sort(([a, na], [b, nb]) => nb - na || (a < b ? -1 : a > b ? 1 : 0))
      .map(([w]) => w);
    // frequency order makes the cut deterministic: ties fall alphabetically, as the ids do
    if (words.length > maxWords) options.onCapped?.({ words: words.length, kept: maxWords });
    return new WordTokenizer([...SPECIAL_TOKENS, ...words.slice(0, maxWords)]);
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  /** All tokens, index = id. */
  tokens(): readonly string[] {
    return this.vocab;
  }

  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.vocab[id];
  }

  /** Text -> ids; special literals such as "<image>" map to their ids, unknown words to <unk>. */
  encode(text: string): number[] {
    return preTokenize(text).map((w) => this.ids.get(w) ?? SPECIAL_IDS.unk);
  }

  /**
   * The words of `text` this vocabulary lacks, each once, in order of first use, as encode
   * sees them (lower-cased, punctuation split off). encode reads each of them as <unk>, so a
   * caller can warn before a prompt loses its meaning silently.
   */
  unknownWords(text: string): string[] {
    return [...new Set(preTokenize(text).filter((w) => !this.ids.has(w)))];
  }

  /** Ids -> tokens joined by single spaces. Throws on an id outside the vocabulary. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const skipSpecial = options.skipSpecial ?? true;
    const out: string[] = [];
    for (const id of ids) {
      const token = this.vocab[id];
      if (token === undefined) throw new Error(`WordTokenizer.decode: id ${id} is outside the vocabulary (size ${this.vocabSize})`);
      if (skipSpecial && id < SPECIAL_TOKENS.length) continue;
      out.push(token);
    }
    return out.join(' ');
  }

  /** HuggingFace files: tokenizer.json (WordLevel) and tokenizer_config.json (with chat_template). */
  toFiles(): Record<string, string> {
    return toHfFiles(this.vocab);
  }

  static fromFiles(files: Record<string, string>): WordTokenizer {
    return new WordTokenizer(fromHfFiles(files));
  }

  /** Writes toFiles() into dir (created if missing). */
  async save(dir: string): Promise<void> {
    await writeTokenizerFolder(dir, this.toFiles());
  }

  static async load(dir: string): Promise<WordTokenizer> {
    return readTokenizerFolder(dir, (files) => WordTokenizer.fromFiles(files));
  }
}
