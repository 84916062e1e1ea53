// Tokenizers: the interface the pipeline takes; word and byte-level BPE tokenizers trained on a corpus, and HF tokenizer.json folders.
export type { TextTokenizer, DecodeOptions } from './text-tokenizer';
export { WordTokenizer, type TrainOptions } from './word-tokenizer';
export { BpeTokenizer } from './bpe-tokenizer';
export type { BpeTrainOptions } from './bpe-trainer';
export { HfTokenizer, loadTokenizer, type HfTokenizerOptions } from './hf-tokenizer';
export { TokenizerFileError } from './tokenizer-file-error';

// Special tokens: fixed ids 0-7 in every tokenizer built here.
export { SPECIAL_TOKENS, SPECIAL_IDS, type SpecialToken, type SpecialIds } from './special-tokens';

// Chat template: conversations to ids with the trained-token mask (also as the Jinja template HF tools read).
export { applyChatTemplate, renderChatTemplate, CHAT_TEMPLATE_JINJA, BPE_CHAT_TEMPLATE_JINJA, type ChatTurn, type ChatTemplateOptions, type TemplatedIds } from './chat-template';

// Jinja chat templates from tokenizer files, rendered with a step and output budget.
export { ChatTemplateError } from './bounded-template';
