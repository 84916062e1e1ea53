import { BpeTokenizer, WordTokenizer, type TextTokenizer } from '@mllm/tokenizer';
import type { RunConfig } from '@mllm/training';

/**
 * A new tokenizer of the kind the config names, learnt from `corpus`: the word tokenizer (words
 * past `maxVocab` read as <unk>, reported to `onCapped`) or the byte-level BPE (every text encodes).
 */
export function trainTokenizer(config: RunConfig['tokenizer'], corpus: readonly string[], onCapped?: (info: { words: number; kept: number }) => void): TextTokenizer {
  if (config.type === 'bpe') return BpeTokenizer.train(corpus, { vocabSize: config.vocabSize, minFrequency: config.minFrequency });
  return WordTokenizer.train(corpus, { minFrequency: config.minFrequency, maxVocab: config.maxVocab, ...(onCapped && { onCapped }) });
}
