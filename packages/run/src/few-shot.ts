import { MllmError } from '@mllm/core/errors'; // tfjs-free: `@mllm/run/browser` bundles answerer.ts, which imports this file
import { applyChatTemplate, type ChatTurn, type TextTokenizer } from '@mllm/tokenizer';
import { conversationTurns, type Conversation } from './conversation';

/**
 * Few-shot prompts (multimodal in-context learning): each demonstration is a human turn with
 * its image and question and a model turn with its answer, in the order given, then the
 * conversation to answer with its own image; the images go to the model in the same order. The
 * layout is that of the interleaved sequences a run trains on (`instruct.interleaved`).
 */

/** A solved example to show before the question; `image` is whatever the caller's images are (pixels, a file, a scene id). */
export interface FewShotDemonstration<Image> {
  image: Image;
  question: string;
  answer: string;
}

const IMAGE = '<image>';

/** Throws a MllmError naming the demonstration and what is wrong with it; the turn layout depends on each being one plain question and answer. */
export function checkDemonstrations(demonstrations: readonly { image?: unknown; question?: unknown; answer?: unknown }[], options: { images?: boolean } = {}): void {
  if (!Array.isArray(demonstrations)) throw new MllmError(`demonstrations must be a list of { image, question, answer }, got ${typeof demonstrations}`);
  demonstrations.forEach((d, i) => {
    if (typeof d !== 'object' || d === null) throw new MllmError(`demonstration ${i + 1} is ${d === null ? 'null' : typeof d}; give each demonstration as { image, question, answer }`);
    if (options.images && (d.image === undefined || d.image === null || d.image === ''))
      throw new MllmError(`demonstration ${i + 1}: "image" is missing; give each demonstration an image, a question and its answer`);
    for (const field of ['question', 'answer'] as const) {
      const value = d[field];
      if (typeof value !== 'string' || value.trim() === '')
        throw new MllmError(`demonstration ${i + 1}: "${field}" is ${typeof value === 'string' ? 'empty' : 'missing'}; give each demonstration an image, a question and its answer`);
      if (value.includes(IMAGE))
        throw new MllmError(`demonstration ${i + 1}: "${field}" holds "${IMAGE}"; the demonstration's image goes before its question by itself, so leave the placeholder out`);
    }
  });
}

/** The chat turns of a few-shot prompt: one (image + question, answer) pair per demonstration, then the conversation's turns. */
export function fewShotTurns(demonstrations: readonly Omit<FewShotDemonstration<unknown>, 'image'>[], conversation: Conversation): ChatTurn[] {
  checkDemonstrations(demonstrations);
  const shown = demonstrations.flatMap((d): ChatTurn[] => [
    { from: 'human', value: `${IMAGE}\n${d.question}` },
    { from: 'gpt', value: d.answer },
  ]);
  return [...shown, ...conversationTurns(conversation)];
}

/** The ids the model continues: the few-shot turns in the chat template, ending with the assistant's role token. */
export function fewShotPromptIds(tokenizer: TextTokenizer, demonstrations: readonly Omit<FewShotDemonstration<unknown>, 'image'>[], conversation: Conversation): number[] {
  return applyChatTemplate(tokenizer, fewShotTurns(demonstrations, conversation), { addGenerationPrompt: true }).ids;
}

/** The images of a few-shot prompt in `<image>` order: every demonstration's, then the query's. */
export function fewShotImages<Image>(demonstrations: readonly FewShotDemonstration<Image>[], image: Image): Image[] {
  return [...demonstrations.map((d) => d.image), image];
}
