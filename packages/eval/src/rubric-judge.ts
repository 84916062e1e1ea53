/**
 * Rubric scoring by a judge model, the survey's "GPT scoring" (LLaVA-Bench, Liu et al. 2023,
 * arXiv:2304.08485; GAVIE): the judge reads a reference description of the image and a
 * response, and answers a score from 1 to 10. Judges reply in free text, so the score is the
 * first integer from 1 to 10 in the reply; a reply without one is counted as unparsed, never
 * guessed. The judge's scores are compared with exact per-response scores by rank correlation.
 */
import { spearman } from './agreement';

export const RUBRIC_SYSTEM_PROMPT = 'You are a helpful and precise assistant for checking the faithfulness of an image description.';

/**
 * The review prompt, after LLaVA-Bench's: the reference stands in for the image (the judge is
 * text-only), the rubric says what a score means, and the answer format is one number.
 */
export function rubricPrompt(reference: string, response: string): string {
  return [
    '[Reference description of the image]',
    reference,
    '[End of reference]',
    '',
    '[Response]',
    response,
    '[End of response]',
    '',
    '[System]',
    'Rate how faithful the response is to the image described by the reference, on a scale of 1 to 10.',
    'Every object, colour, size, position, count and relation the response states must agree with the reference.',
    '10 means every statement agrees; 1 means almost none does. Statements the reference cannot confirm count as wrong.',
    'Output a single line containing only the score.',
  ].join('\n');
}

/**
 * The first integer from 1 to 10 in a judge's reply, or undefined: "8", "Score: 7/10" -> 7,
 * "**9**" -> 9. Numbers outside 1-10 ("0", "11", "100"), negative numbers and decimals are
 * skipped ("7.5" is not a score), so a reply is never read as a score it did not give.
 */
export function parseRubricScore(reply: string): number | undefined {
  for (const match of reply.matchAll(/(?<![\d.-])\d+(?:\.\d+)?/g)) {
    if (match[0].includes('.')) continue;
    const n = Number(match[0]);
    if (n >= 1 && n <= 10) return n;
  }
  return undefined;
}

export interface RubricAgreement {
  /** Spearman's rank correlation of the parsed scores with the exact scores (NaN when either is constant). */
  spearman: number;
  /** Replies scored (those that parsed). */
  n: number;
  /** Replies without a score from 1 to 10: left out of the correlation and counted here. */
  unparsed: number;
  /** Mean parsed score and mean exact score, to see a judge that is lenient or harsh throughout. */
  meanScore: number;
  meanExact: number;
}

/** The judge's replies against the exact score of each response (e.g. 10 x that response's FaithScore). */
export function rubricAgreement(replies: readonly string[], exact: readonly number[]): RubricAgreement {
  if (replies.length !== exact.length) throw new Error(`rubricAgreement: ${replies.length} replies for ${exact.length} exact scores; one reply per response`);
  const scored: [number, number][] = [];
  replies.forEach((reply, i) => {
    const score = parseRubricScore(reply);
    if (score !== undefined) scored.push([score, exact[i]!]);
  });
  const mean = (values: number[]) => (values.length === 0 ? NaN : values.reduce((s, v) => s + v, 0) / values.length);
  return {
    spearman: scored.length < 2 ? NaN : spearman(scored.map((p) => p[0]), scored.map((p) => p[1])),
    n: scored.length,
    unparsed: replies.length - scored.length,
    meanScore: mean(scored.map((p) => p[0])),
    meanExact: mean(scored.map((p) => p[1])),
  };
}
