import type { KeyConcept, VerificationQuestion } from './key-concepts';
import type { SeenObject } from './visual-expert';

/**
 * Woodpecker's third and fourth stages: each verification question answered from what the
 * expert sees, and the answers turned into visual claims, the knowledge base the rewrite
 * corrects against ("there is no green cross", "the red circle is small").
 */
export interface VisualClaim {
  concept: KeyConcept;
  question: string;
  answer: string;
  /** The claim as text, as Woodpecker's knowledge base states it. */
  claim: string;
}

const NUMBERS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const plural = (shape: string) => (/(s|x|z|ch|sh)$/.test(shape) ? `${shape}es` : `${shape}s`);

function answerOf(q: VerificationQuestion, matches: readonly SeenObject[]): string {
  switch (q.kind) {
    case 'existence':
      return matches.length > 0 ? 'yes' : 'no';
    case 'count':
      return NUMBERS[matches.length] ?? String(matches.length);
    case 'size':
      return [...new Set(matches.map((o) => o.size ?? 'unknown'))].join(' and ') || 'none';
    case 'position':
      return [...new Set(matches.map((o) => o.cell ?? 'unknown'))].join(' and ') || 'none';
  }
}

function claimOf(q: VerificationQuestion, answer: string, count: number): string {
  const name = `${q.concept.color} ${q.concept.shape}`;
  switch (q.kind) {
    case 'existence':
      return answer === 'yes' ? `there is a ${name}` : `there is no ${name}`;
    case 'count':
      return count === 1 ? `there is one ${name}` : `there are ${answer} ${q.concept.color} ${plural(q.concept.shape)}`;
    case 'size':
      return `the ${name} is ${answer}`;
    case 'position':
      return `the ${name} is at the ${answer}`;
  }
}

/** Answers and claims for every question, from the objects the expert sees; size and position only for concepts that are there. */
export function visualClaims(questions: readonly VerificationQuestion[], seen: readonly SeenObject[]): VisualClaim[] {
  return questions.flatMap((q) => {
    const matches = seen.filter((o) => o.color === q.concept.color && o.shape === q.concept.shape);
    if ((q.kind === 'size' || q.kind === 'position') && matches.length === 0) return [];
    const answer = answerOf(q, matches);
    return [{ concept: q.concept, question: q.question, answer, claim: claimOf(q, answer, matches.length) }];
  });
}
