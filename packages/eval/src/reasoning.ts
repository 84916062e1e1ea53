/**
 * Closed-set accuracy with and without a reasoning chain: each question asked directly and
 * asked with a step-by-step prompt (Kojima et al. 2022's zero-shot CoT; Multimodal-CoT, Zhang et
 * al. 2023), the chain's final answer read after a marker such as "so the answer is"; and how
 * often a chain's final answer contradicts what its own steps say.
 */
import { closedSetAccuracy, isCorrect } from './closed-set';
import type { ClosedSetResult } from './closed-set';
import { safeRatio } from './ratio';

/** Questions asked both ways; `answer` is the short reference answer. */
export interface ReasoningSet {
  items: { sceneId: string; type: string; question: string; answer: string }[];
  /** Appended (after a space) to ask for the chain, e.g. "think step by step .". */
  prompt: string;
  /** The words before the final answer in a chain, e.g. "so the answer is". */
  marker: string;
  /**
   * The answer a chain's own steps imply for a question (the world's parser: @mllm/data's
   * `chainImpliedAnswer`), undefined when its steps do not give one.
   */
  implied: (question: string, chain: string) => string | undefined;
}

export interface ReasoningResult {
  /** Asked directly, scored like the closed set. */
  direct: ClosedSetResult;
  /** Asked with the prompt, scored on the parsed final answer (a reply without the marker is wrong). */
  chain: ClosedSetResult;
  /**
   * Share of chains whose stated final answer differs from the answer their own steps imply;
   * a chain without a final answer, or whose steps imply none, counts as inconsistent.
   */
  inconsistent: number;
  /** Share of chains in which the marker was found. */
  answered: number;
  /** The first 10 items with both replies. */
  samples: { sceneId: string; type: string; question: string; answer: string; direct: string; chain: string }[];
}

/**
 * The final answer of a reasoning reply: the words after the last `marker`, up to the next
 * punctuation mark; undefined when the marker is missing or nothing follows it.
 *
 *   finalAnswer('the objects are a red circle . so the answer is one .', 'so the answer is') // 'one'
 */
export function finalAnswer(reply: string, marker: string): string | undefined {
  const text = reply.toLowerCase().replace(/\s+/g, ' ');
  const at = text.lastIndexOf(marker.toLowerCase());
  if (at < 0) return undefined;
  const answer = text.slice(at + marker.length).split(/[.,;:!?]/)[0]!.trim();
  return answer === '' ? undefined : answer;
}

/** Scores the direct and the chain replies to `set.items` (in item order). */
export function scoreReasoning(set: ReasoningSet, directReplies: readonly string[], chainReplies: readonly string[]): ReasoningResult {
  if (directReplies.length !== set.items.length || chainReplies.length !== set.items.length)
    throw new Error(`scoreReasoning: ${set.items.length} items but ${directReplies.length} direct and ${chainReplies.length} chain replies; pass one of each per item`);
  const parsed = chainReplies.map((r) => finalAnswer(r, set.marker));
  const contradicts = set.items.map((q, i) => {
    const implied = set.implied(q.question, chainReplies[i]!);
    return parsed[i] === undefined || implied === undefined || !isCorrect(implied, parsed[i]);
  });
  return {
    direct: closedSetAccuracy(set.items.map((q, i) => ({ type: q.type, answer: q.answer, prediction: directReplies[i]! }))),
    // an unparsed chain gets a prediction no answer normalises to
    chain: closedSetAccuracy(set.items.map((q, i) => ({ type: q.type, answer: q.answer, prediction: parsed[i] ?? '\u0000' }))),
    inconsistent: safeRatio(contradicts.filter(Boolean).length, contradicts.length),
    answered: safeRatio(parsed.filter((p) => p !== undefined).length, parsed.length),
    samples: set.items.slice(0, 10).map((q, i) => ({ ...q, direct: directReplies[i]!, chain: chainReplies[i]! })),
  };
}

/** The prompts to ask: every question directly, then every question with the step-by-step prompt. */
export function reasoningRequests(set: ReasoningSet): { sceneId: string; prompt: string }[] {
  return [...set.items.map((q) => ({ sceneId: q.sceneId, prompt: q.question })), ...set.items.map((q) => ({ sceneId: q.sceneId, prompt: `${q.question} ${set.prompt}` }))];
}
