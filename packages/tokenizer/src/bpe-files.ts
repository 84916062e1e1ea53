import { SPECIAL_TOKENS } from './special-tokens';
import { BPE_CHAT_TEMPLATE_JINJA } from './chat-template';
import { TokenizerFileError, parseTokenizerJson } from './tokenizer-file-error';

/** tokenizer_config.json's record of which tokenizer wrote the folder, so a run or export reopens with the same kind. */
export const TOKENIZER_KIND_KEY = 'mllm_tokenizer';

/**
 * HuggingFace `tokenizers` files for a byte-level BPE (GPT-2's layout): no normalizer, ByteLevel
 * pre-tokenizer (GPT-2 split pattern, no prefix space, so decode gives the text back exactly) and
 * decoder, model BPE with the vocabulary and ranked merges and no unknown token (every byte is in
 * the vocabulary), and the special tokens as `added_tokens` at ids 0-7, never split or merged.
 */
export function toBpeFiles(vocab: readonly string[], merges: readonly (readonly [string, string])[]): Record<string, string> {
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: null,
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
      merges: merges.map(([a, b]) => [a, b]),
    },
  };
  const config = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: '<bos>',
    eos_token: '<eos>',
    pad_token: '<pad>',
    unk_token: '<unk>',
    additional_special_tokens: SPECIAL_TOKENS.slice(4),
    // transformers' clean-up would glue " ?" to the word before it: decode must give the text back
    clean_up_tokenization_spaces: false,
    chat_template: BPE_CHAT_TEMPLATE_JINJA,
    [TOKENIZER_KIND_KEY]: 'bpe',
  };
  return {
    'tokenizer.json': JSON.stringify(tokenizer, null, 2) + '\n',
    'tokenizer_config.json': JSON.stringify(config, null, 2) + '\n',
  };
}


/** The vocabulary (index = id) and merges of toBpeFiles output; checks the layout it writes. */
export function fromBpeFiles(files: Record<string, string>): { vocab: string[]; merges: [string, string][] } {
  const tokenizer = parseTokenizerJson(files, 'tokenizer.json', 'BpeTokenizer.fromFiles');
  const config = parseTokenizerJson(files, 'tokenizer_config.json', 'BpeTokenizer.fromFiles');
  const fail = (what: string): never => {
    throw new TokenizerFileError('tokenizer.json', what);
  };
  const model = tokenizer.model as { type?: unknown; vocab?: unknown; merges?: unknown } | undefined;
  if (model?.type !== 'BPE') fail(`model.type must be "BPE" for BpeTokenizer, got ${JSON.stringify(model?.type)}`);
  if ((tokenizer.pre_tokenizer as { type?: unknown } | null)?.type !== 'ByteLevel') fail('pre_tokenizer must be ByteLevel: BpeTokenizer is byte-level');
  if (typeof model!.vocab !== 'object' || model!.vocab === null || Array.isArray(model!.vocab)) fail('model.vocab must be an object {token: id}');
  const entries = Object.entries(model!.vocab as Record<string, unknown>);
  const vocab = new Array<string>(entries.length);
  for (const [token, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= entries.length || vocab[id] !== undefined)
      fail(`model.vocab["${token}"] = ${JSON.stringify(id)}; ids must be distinct integers 0..${entries.length - 1}`);
    vocab[id as number] = token;
  }
  if (!Array.isArray(model!.merges)) fail('model.merges must be a list of ["left", "right"] pairs');
  const merges = (model!.merges as unknown[]).map((m, i): [string, string] => {
    // the older "left right" string form is read too
    const pair = typeof m === 'string' ? m.split(' ') : m;
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((p) => typeof p === 'string')) fail(`model.merges[${i}] = ${JSON.stringify(m)}; a merge is a pair ["left", "right"]`);
    return pair as [string, string];
  });
  for (const [key, token] of [['bos_token', '<bos>'], ['eos_token', '<eos>'], ['pad_token', '<pad>'], ['unk_token', '<unk>']] as const) {
    if (config[key] !== token) throw new TokenizerFileError('tokenizer_config.json', `${key} must be "${token}", got ${JSON.stringify(config[key])}`);
  }
  return { vocab, merges };
}
