/**
 * A tiny Llama-2-style tokenizer (SentencePiece BPE over "▁"-joined characters, <s>/</s>/<unk>,
 * an [INST] chat template) in the exact file layout transformers writes, for tests.
 */
const MERGES = ['▁ w', 'h a', '▁w ha', 't ?', '▁ c', 'o l', '▁c ol', 'o r', '▁col or', '▁ r', 'e d', '▁r ed'];

export const LLAMA2_CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}" +
  "{% else %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %}";

export function tinyHfTokenizerFiles(): { 'tokenizer.json': string; 'tokenizer_config.json': string; vocabSize: number } {
  const specials = ['<unk>', '<s>', '</s>'];
  const chars = ['▁', ...Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)), '\n'];
  const merged = MERGES.map((m) => m.replace(' ', ''));
  const vocab = [...specials, ...chars, ...merged];
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
      merges: MERGES,
    },
  };
  const config = {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    pad_token: null,
    clean_up_tokenization_spaces: false,
    legacy: false,
    model_max_length: 4096,
    tokenizer_class: 'LlamaTokenizer',
    chat_template: LLAMA2_CHAT_TEMPLATE,
  };
  return { 'tokenizer.json': JSON.stringify(tokenizer), 'tokenizer_config.json': JSON.stringify(config), vocabSize: vocab.length };
}
