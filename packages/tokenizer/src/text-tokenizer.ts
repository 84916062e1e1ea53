import type { SpecialIds } from './special-tokens';

export interface DecodeOptions {
  /** Drop special tokens (<bos>, <image>, <|user|>, ...) from the text. Default true. */
  skipSpecial?: boolean;
}

/**
 * What the pipeline needs from a tokenizer: text to ids and back, the special ids the chat
 * template and generation use, and its files. WordTokenizer, BpeTokenizer and HfTokenizer
 * implement it; training, chat, evaluation and export take any of them.
 */
export interface TextTokenizer {
  /** Ids of the special tokens by role (0-7 for the tokenizers trained here). */
  readonly special: Readonly<SpecialIds>;
  /** Rows of the LLM's embedding this tokenizer indexes. */
  readonly vocabSize: number;
  /** Text -> ids, without added bos/eos; special literals such as "<image>" map to their ids. */
  encode(text: string): number[];
  /** Ids -> text; `skipSpecial` (default true) leaves out special tokens. */
  decode(ids: readonly number[], options?: DecodeOptions): string;
  /**
   * The words of `text` encode cannot represent and reads as <unk>, each once, in order of first
   * use; always empty for a subword tokenizer, which spells an unseen word from smaller pieces.
   */
  unknownWords(text: string): string[];
  /** All tokens, index = id. */
  tokens(): readonly string[];
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** HuggingFace files: tokenizer.json and tokenizer_config.json. */
  toFiles(): Record<string, string>;
  /** Writes toFiles() into dir (created if missing). */
  save(dir: string): Promise<void>;
}
