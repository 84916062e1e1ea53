import type { TextTokenizer } from './text-tokenizer';

/**
 * A conversation turn in LLaVA's format (structurally the same as @mllm/data's LlavaTurn):
 * `human` and `gpt` are HF's `user` and `assistant`; `system` (HF `system`) is context for the
 * whole conversation and is never trained.
 */
export interface ChatTurn {
  from: 'human' | 'gpt' | 'system';
  value: string;
}

export interface ChatTemplateOptions {
  /** End with `<|assistant|>` after the last (human) turn, ready for generation. Default false. */
  addGenerationPrompt?: boolean;
}

export interface TemplatedIds {
  ids: number[];
  /** 1 where the token is trained (assistant content, its `<|end|>`, the final `<eos>`), else 0. */
  lossMask: number[];
}

/**
 * The template as Jinja for tokenizer_config.json (messages use HF roles: system / user /
 * assistant), with `sep` around the role tokens: ' ' for the word tokenizer (which splits on
 * whitespace, so the spaces only separate), '' for a byte-level tokenizer, where a space would be
 * a token of its own and a turn's text must encode exactly as applyChatTemplate encodes it.
 */
function chatTemplateJinja(sep: '' | ' '): string {
  return (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set prefix = messages[0]['content'] + '\n\n' %}{% set loop_messages = messages[1:] %}" +
    "{% else %}{% set prefix = '' %}{% set loop_messages = messages %}{% endif %}" +
    "{% for message in loop_messages %}{% if message['role'] == 'system' %}{{ raise_exception('a system message is allowed only first') }}" +
    `{% elif message['role'] == 'user' %}{{ '${sep}<|user|>${sep}' + (prefix if loop.first else '') + message['content'] + '${sep}<|end|>' }}` +
    `{% else %}{{ '${sep}<|assistant|>${sep}' + message['content'] + '${sep}<|end|>' }}{% endif %}{% endfor %}` +
    `{% if add_generation_prompt %}{{ '${sep}<|assistant|>' }}{% elif messages[-1]['role'] == 'assistant' %}{{ '${sep}' + eos_token }}{% endif %}`
  );
}

/** The word tokenizer's template as Jinja: it renders exactly the string renderChatTemplate produces. */
export const CHAT_TEMPLATE_JINJA = chatTemplateJinja(' ');

/**
 * The byte-level BPE tokenizer's template as Jinja: no spaces around the role tokens, so HF's
 * encoding of a render gives exactly applyChatTemplate's ids (each turn's text is encoded on its own).
 */
export const BPE_CHAT_TEMPLATE_JINJA = chatTemplateJinja('');

/**
 * The turns our template lays out: a leading system turn has no role token of its own (the
 * vocabulary's special tokens are fixed), so, as Gemma's template does, its text opens the first
 * human turn, followed by a blank line; it is context, never trained.
 */
function laidOut(conversation: readonly ChatTurn[], addGenerationPrompt: boolean): ChatTurn[] {
  if (conversation.length === 0) throw new Error('chat template: the conversation is empty; pass at least one human turn');
  conversation.forEach((t, i) => {
    if (t.from !== 'human' && t.from !== 'gpt' && t.from !== 'system') throw new Error(`chat template: turn ${i} has from="${String(t.from)}"; use "human", "gpt" or "system"`);
    if (t.from === 'system' && i > 0) throw new Error(`chat template: turn ${i} is a system turn; a system turn may only come first`);
  });
  let turns = [...conversation];
  if (turns[0]!.from === 'system') {
    const [system, first, ...rest] = turns;
    if (first?.from !== 'human') throw new Error('chat template: a system turn must be followed by a human turn, which it opens');
    turns = [{ from: 'human', value: `${system!.value}\n\n${first.value}` }, ...rest];
  }
  if (addGenerationPrompt && turns[turns.length - 1]!.from !== 'human') {
    throw new Error('chat template: addGenerationPrompt needs the conversation to end with a human turn');
  }
  return turns;
}

/**
 * Token ids and loss mask of a conversation:
 *   <bos> (<|user|> human <|end|> | <|assistant|> gpt <|end|>)* [<eos> if the last turn is gpt]
 * or, with addGenerationPrompt, a final `<|assistant|>` instead. The mask is built from the
 * pieces as they are concatenated: 1 on gpt content tokens, their `<|end|>` and the `<eos>`.
 * A leading system turn opens the first human turn (see laidOut).
 */
export function applyChatTemplate(tokenizer: TextTokenizer, conversation: readonly ChatTurn[], options: ChatTemplateOptions = {}): TemplatedIds {
  // an HfTokenizer formats with its own chat_template (checked by shape: importing the class here would be a cycle)
  const own = (tokenizer as { templated?: (c: readonly ChatTurn[], o: ChatTemplateOptions) => TemplatedIds }).templated;
  if (typeof own === 'function') return own.call(tokenizer, conversation, options);
  const addGenerationPrompt = options.addGenerationPrompt ?? false;
  const turns = laidOut(conversation, addGenerationPrompt);
  const sp = tokenizer.special;
  const ids: number[] = [];
  const lossMask: number[] = [];
  const push = (piece: readonly number[], trained: boolean) => {
    for (const id of piece) {
      ids.push(id);
      lossMask.push(trained ? 1 : 0);
    }
  };
  push([sp.bos], false);
  for (const turn of turns) {
    const gpt = turn.from === 'gpt';
    push([gpt ? sp.assistant : sp.user], false);
    push(tokenizer.encode(turn.value), gpt);
    push([sp.end], gpt);
  }
  if (addGenerationPrompt) push([sp.assistant], false);
  else if (turns[turns.length - 1]!.from === 'gpt') push([sp.eos], true);
  return { ids, lossMask };
}

/** The same layout as text, tokens separated by spaces; encode(render) === applyChatTemplate(...).ids. */
export function renderChatTemplate(conversation: readonly ChatTurn[], options: ChatTemplateOptions = {}): string {
  const addGenerationPrompt = options.addGenerationPrompt ?? false;
  const turns = laidOut(conversation, addGenerationPrompt);
  const parts = ['<bos>'];
  for (const turn of turns) parts.push(turn.from === 'gpt' ? '<|assistant|>' : '<|user|>', turn.value, '<|end|>');
  if (addGenerationPrompt) parts.push('<|assistant|>');
  else if (turns[turns.length - 1]!.from === 'gpt') parts.push('<eos>');
  return parts.join(' ');
}
