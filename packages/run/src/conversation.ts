import { MllmError } from '@mllm/core/errors'; // tfjs-free: `@mllm/run/browser` bundles this file
import { applyChatTemplate, type ChatTurn, type TextTokenizer } from '@mllm/tokenizer';

/** What to answer: one prompt, or a conversation that ends with the human turn to answer (earlier turns alternate human / gpt). */
export type Conversation = string | readonly ChatTurn[];

const IMAGE = '<image>';

/**
 * The turns a conversation is templated from, with the image's `<image>` placeholder in the
 * first human turn as the run trained (LLaVA's format). A prompt string becomes the one turn
 * "<image>\n<prompt>", exactly as single-turn answers always were.
 */
export function conversationTurns(conversation: Conversation): ChatTurn[] {
  if (typeof conversation === 'string') return [{ from: 'human', value: `${IMAGE}\n${conversation}` }];
  if (conversation.length === 0 || conversation.at(-1)!.from !== 'human')
    throw new MllmError('a conversation to answer must end with a human turn (turns alternate human, gpt, human, ...)');
  conversation.forEach((turn, i) => {
    if (turn.from !== (i % 2 === 0 ? 'human' : 'gpt'))
      throw new MllmError(`conversation turn ${i} is from "${turn.from}"; turns alternate human, gpt, human, ... starting with human`);
  });
  const placeholders = conversation.reduce((n, t) => n + t.value.split(IMAGE).length - 1, 0);
  if (placeholders > 1) throw new MllmError(`a conversation is about one image, but its turns hold ${placeholders} "${IMAGE}" placeholders; keep one (or none: it goes in the first turn)`);
  if (placeholders === 1) return [...conversation];
  const [first, ...rest] = conversation;
  return [{ from: 'human', value: `${IMAGE}\n${first!.value}` }, ...rest];
}

/** The ids the model continues for `conversation`: its turns in the chat template, ending with the assistant's role token. */
export function promptIds(tokenizer: TextTokenizer, conversation: Conversation): number[] {
  return applyChatTemplate(tokenizer, conversationTurns(conversation), { addGenerationPrompt: true }).ids;
}
