import { SPECIAL_TOKENS } from './special-tokens';
import { BYTE_CHARS, byteLevelWords } from './byte-level';

export interface BpeTrainOptions {
  /**
   * At most this many tokens: the 8 special tokens, the 256 bytes, then one per merge. Training
   * stops earlier when no pair is left that occurs minFrequency times.
   */
  vocabSize: number;
  /** A pair seen fewer times than this in the corpus is never merged. Default 1, as the word tokenizer keeps a word seen once. */
  minFrequency?: number;
}

export interface BpeModel {
  /** Tokens, index = id: SPECIAL_TOKENS, BYTE_CHARS in byte order, then each merge's result. */
  vocab: string[];
  /** Merges in the order learned (their rank when encoding). */
  merges: [string, string][];
  /** How each distinct training word ended up split, the segmentation encode must reproduce. */
  segmented: Map<string, string[]>;
}

/** The smallest vocabulary: specials and bytes, no merges. */
export const BPE_BASE_VOCAB = SPECIAL_TOKENS.length + BYTE_CHARS.length;

/** Two token ids packed in one number, as a Map key (ids stay far below 2^26). */
const pairKey = (a: number, b: number) => a * 0x4000000 + b;

/**
 * Byte-level BPE training (Sennrich et al. 2016, GPT-2's byte-level variant, HF `tokenizers`'
 * BpeTrainer semantics): the corpus is split into byte-level words (byteLevelWords), and the most
 * frequent adjacent pair of tokens, counted over all words weighted by their frequency, is merged
 * into a new token until the vocabulary is full. Ties go to the pair whose left token, then right
 * token, comes first in code-unit order, so the same corpus always gives the same merges.
 * Pair counts are updated only in the words a merge touches.
 */
export function trainBpe(corpus: readonly string[], options: BpeTrainOptions): BpeModel {
  const minFrequency = options.minFrequency ?? 1;
  if (!(Number.isInteger(options.vocabSize) && options.vocabSize >= BPE_BASE_VOCAB))
    throw new Error(`BPE training: vocabSize must be an integer >= ${BPE_BASE_VOCAB} (8 special tokens and 256 bytes), got ${options.vocabSize}`);
  if (!(Number.isInteger(minFrequency) && minFrequency >= 1)) throw new Error(`BPE training: minFrequency must be an integer >= 1, got ${minFrequency}`);

  const counts = new Map<string, number>();
  for (const text of corpus) for (const w of byteLevelWords(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const vocab: string[] = [...SPECIAL_TOKENS, ...BYTE_CHARS];
  const ids = new Map(vocab.map((t, i) => [t, i]));
  // distinct words in code-unit order: the merge loop visits them in a fixed order
  const texts = [...counts.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const words = texts.map((w) => Array.from(w, (c) => ids.get(c)!));
  const freq = texts.map((w) => counts.get(w)!);

  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1) => {
    const word = words[w]!;
    for (let i = 0; i + 1 < word.length; i++) {
      const key = pairKey(word[i]!, word[i + 1]!);
      const count = (pairCounts.get(key) ?? 0) + sign * freq[w]!;
      if (count === 0) pairCounts.delete(key);
      else pairCounts.set(key, count);
      if (sign === 1) {
        let where = pairWords.get(key);
        if (!where) pairWords.set(key, (where = new Set()));
        where.add(w);
      }
    }
  };
  words.forEach((_, w) => addPairs(w, 1));

  const merges: [string, string][] = [];
  while (vocab.length < options.vocabSize) {
    let best: number | undefined;
    let bestCount = 0;
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && count > 0 && comesFirst(key, best!, vocab))) {
        best = key;
        bestCount = count;
      }
    }
    if (best === undefined || bestCount < minFrequency) break;
    const a = Math.floor(best / 0x4000000);
    const b = best % 0x4000000;
    const merged = vocab[a]! + vocab[b]!;
    let id = ids.get(merged);
    if (id === undefined) {
      id = vocab.length;
      vocab.push(merged);
      ids.set(merged, id);
    }
    merges.push([vocab[a]!, vocab[b]!]);
    for (const w of pairWords.get(best) ?? []) {
      addPairs(w, -1);
      words[w] = mergePair(words[w]!, a, b, id);
      addPairs(w, 1);
    }
    pairWords.delete(best);
    pairCounts.delete(best);
  }
  const segmented = new Map(texts.map((t, w) => [t, words[w]!.map((id) => vocab[id]!)]));
  return { vocab, merges, segmented };
}

/** `word` with every non-overlapping occurrence of (a, b), left to right, replaced by `merged`. */
function mergePair(word: readonly number[], a: number, b: number, merged: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < word.length; i++) {
    if (word[i] === a && word[i + 1] === b) {
      out.push(merged);
      i++;
    } else out.push(word[i]!);
  }
  return out;
}

/** Whether pair `key` comes before pair `other` in the tie order: left token, then right token, in code-unit order. */
function comesFirst(key: number, other: number, vocab: readonly string[]): boolean {
  const [l1, r1] = [vocab[Math.floor(key / 0x4000000)]!, vocab[key % 0x4000000]!];
  const [l2, r2] = [vocab[Math.floor(other / 0x4000000)]!, vocab[other % 0x4000000]!];
  return l1 !== l2 ? l1 < l2 : r1 < r2;
}
