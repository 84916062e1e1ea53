import { BPE_CHAT_TEMPLATE_JINJA, CHAT_TEMPLATE_JINJA, type TextTokenizer } from '@mllm/tokenizer';

const IMAGE = '<image>';

interface TokenizerJson {
  added_tokens?: { id: number; content: string }[];
  model?: { vocab?: unknown };
  [key: string]: unknown;
}

/** Whether tokenizer.json gives `token` an id, as an added token or in the model's vocabulary. */
function hasToken(json: TokenizerJson, token: string): boolean {
  if (json.added_tokens?.some((t) => t.content === token)) return true;
  const vocab = json.model?.vocab;
  if (Array.isArray(vocab)) return vocab.some((entry) => Array.isArray(entry) && entry[0] === token); // Unigram: [piece, score]
  return typeof vocab === 'object' && vocab !== null && token in vocab;
}

/**
 * tokenizer.json and tokenizer_config.json for the HF folder: the run's own files (the word
 * tokenizer's WordLevel files with its chat template, or the HF tokenizer the run started from).
 * An HF tokenizer whose vocabulary had no `<image>` got one past its last id (the LLM's
 * embedding grew to match); it is written as an added special token with that id, so
 * LlavaProcessor finds `image_token_index` in the tokenizer.
 */
export function hfTokenizerFiles(tokenizer: TextTokenizer): Record<string, string> {
  const files = tokenizer.toFiles();
  const json = JSON.parse(files['tokenizer.json']!) as TokenizerJson;
  if (hasToken(json, IMAGE)) return files;
  const added = { id: tokenizer.special.image, content: IMAGE, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
  json.added_tokens = [...(json.added_tokens ?? []), added];
  const config = JSON.parse(files['tokenizer_config.json']!) as Record<string, unknown>;
  const decoder = (config.added_tokens_decoder ?? {}) as Record<string, unknown>;
  const { id: _id, ...entry } = added;
  config.added_tokens_decoder = { ...decoder, [String(added.id)]: entry };
  return {
    'tokenizer.json': `${JSON.stringify(json)}\n`,
    'tokenizer_config.json': `${JSON.stringify(config, null, 2)}\n`,
  };
}

/**
 * The processor's chat template (chat_template.json), for our tokenizers' templates: the same
 * text, also from HF's multimodal messages, whose content is a list of
 * `{ type: "image" }` / `{ type: "text", text }` items (an image renders as `<image>` and a line
 * break, as LLaVA data writes it). `processor.apply_chat_template` reads this file, not the
 * tokenizer's. `sep` is the tokenizer template's: ' ' around role tokens for the word tokenizer,
 * '' for the byte-level BPE. An HF tokenizer's own template is left as the tokenizer has it.
 */
function processorChatTemplate(sep: '' | ' '): string {
  return (
    `{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '${sep}<|user|>${sep}' }}{% else %}{{ '${sep}<|assistant|>${sep}' }}{% endif %}` +
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for item in message['content'] %}" +
    `{% if item['type'] == 'image' %}{{ '<image>\\n' }}{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}{% endif %}{{ '${sep}<|end|>' }}{% endfor %}` +
    `{% if add_generation_prompt %}{{ '${sep}<|assistant|>' }}{% elif messages[-1]['role'] == 'assistant' %}{{ '${sep}' + eos_token }}{% endif %}`
  );
}

export const PROCESSOR_CHAT_TEMPLATE = processorChatTemplate(' ');
export const BPE_PROCESSOR_CHAT_TEMPLATE = processorChatTemplate('');

/** chat_template.json for LlavaProcessor, when the tokenizer is one of ours (its template is ours). */
export function hfProcessorChatTemplate(tokenizer: TextTokenizer): Record<string, string> {
  const config = JSON.parse(tokenizer.toFiles()['tokenizer_config.json']!) as { chat_template?: unknown };
  const template = config.chat_template === CHAT_TEMPLATE_JINJA ? PROCESSOR_CHAT_TEMPLATE : config.chat_template === BPE_CHAT_TEMPLATE_JINJA ? BPE_PROCESSOR_CHAT_TEMPLATE : undefined;
  if (template === undefined) return {};
  return { 'chat_template.json': `${JSON.stringify({ chat_template: template }, null, 2)}\n` };
}
