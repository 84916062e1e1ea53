export { WordTokenizer } from './word-tokenizer';
export type { TrainOptions, DecodeOptions } from './word-tokenizer';
export { SPECIAL_TOKENS, SPECIAL_IDS, PUNCTUATION, preTokenize } from './special-tokens';
export type { SpecialToken, SpecialIds } from './special-tokens';
export { applyChatTemplate, renderChatTemplate, CHAT_TEMPLATE_JINJA } from './chat-template';
export type { ChatTurn, ChatTemplateOptions, TemplatedIds } from './chat-template';
export { HfTokenizer, loadTokenizer, type HfTokenizerOptions } from './hf-tokenizer';
