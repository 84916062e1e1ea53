import { PUNCTUATION, SPECIAL_TOKENS } from './special-tokens';
import { CHAT_TEMPLATE_JINJA } from './chat-template';
import { TokenizerFileError, parseTokenizerJson } from './tokenizer-file-error';

/**
 * HuggingFace `tokenizers` files for a word-level vocabulary. The pipeline mirrors
 * preTokenize: Lowercase normalizer, then WhitespaceSplit and an isolating Split on
 * PUNCTUATION; specials are `added_tokens` (matched before normalization, never split).
 * With no decoder, HF joins tokens with spaces, as WordTokenizer.decode does.
 */

const escapeClass = (s: string) => s.replace(/[\\\]^-]/g, '\\$&');

export function toHfFiles(vocab: readonly string[]): Record<string, string> {
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'WhitespaceSplit' },
        { type: 'Split', pattern: { Regex: `[${escapeClass(PUNCTUATION)}]` }, behavior: 'Isolated', invert: false },
      ],
    },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab: Object.fromEntries(vocab.map((t, i) => [t, i])), unk_token: '<unk>' },
  };
  const config = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: '<bos>',
    eos_token: '<eos>',
    pad_token: '<pad>',
    unk_token: '<unk>',
    additional_special_tokens: SPECIAL_TOKENS.slice(4),
    clean_up_tokenization_spaces: false,
    chat_template: CHAT_TEMPLATE_JINJA,
  };
  return {
    'tokenizer.json': JSON.stringify(tokenizer, null, 2) + '\n',
    'tokenizer_config.json': JSON.stringify(config, null, 2) + '\n',
  };
}


/** Reads the vocabulary (index = id) back from toHfFiles output; checks every invariant it relies on. */
export function fromHfFiles(files: Record<string, string>): string[] {
  const tokenizer = parseTokenizerJson(files, 'tokenizer.json', 'WordTokenizer.fromFiles');
  const config = parseTokenizerJson(files, 'tokenizer_config.json', 'WordTokenizer.fromFiles');
  const model = tokenizer.model as { type?: unknown; vocab?: unknown; unk_token?: unknown } | undefined;
  if (model?.type !== 'WordLevel') {
    throw new TokenizerFileError('tokenizer.json', `model.type must be "WordLevel" for WordTokenizer, got ${JSON.stringify(model?.type)}`);
  }
  if (model.unk_token !== '<unk>') throw new TokenizerFileError('tokenizer.json', `model.unk_token must be "<unk>", got ${JSON.stringify(model.unk_token)}`);
  if (typeof model.vocab !== 'object' || model.vocab === null) throw new TokenizerFileError('tokenizer.json', 'model.vocab must be an object {token: id}');
  const entries = Object.entries(model.vocab as Record<string, unknown>);
  const vocab: string[] = new Array<string>(entries.length);
  for (const [token, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= entries.length || vocab[id] !== undefined) {
      throw new TokenizerFileError('tokenizer.json', `model.vocab["${token}"] = ${JSON.stringify(id)}; ids must be distinct integers 0..${entries.length - 1}`);
    }
    vocab[id] = token;
  }
  for (const [key, token] of [['bos_token', '<bos>'], ['eos_token', '<eos>'], ['pad_token', '<pad>'], ['unk_token', '<unk>']] as const) {
    if (config[key] !== token) throw new TokenizerFileError('tokenizer_config.json', `${key} must be "${token}", got ${JSON.stringify(config[key])}`);
  }
  return vocab;
}
