import { attributeClaims } from '@mllm/eval';

/**
 * Woodpecker's first two stages (Yin et al. 2023, arXiv:2310.16045): the key concepts of an
 * answer (the objects it names) and the verification questions asked about each: does it
 * exist, how many are there, and its attributes (here size and position).
 */
export interface KeyConcept {
  color: string;
  shape: string;
}

export interface VerificationQuestion {
  concept: KeyConcept;
  kind: 'existence' | 'count' | 'size' | 'position';
  question: string;
}

/** The distinct objects an answer names, in order of first mention. */
export function keyConcepts(answer: string): KeyConcept[] {
  const seen = new Set<string>();
  return attributeClaims(answer).flatMap((c) => {
    const key = `${c.color} ${c.shape}`;
    if (seen.has(key)) return [];
    seen.add(key);
    return [{ color: c.color, shape: c.shape }];
  });
}

const plural = (shape: string) => (/(s|x|z|ch|sh)$/.test(shape) ? `${shape}es` : `${shape}s`);

/** The questions Woodpecker's validation stage asks about each concept, in the Shapes world's phrasing. */
export function verificationQuestions(concepts: readonly KeyConcept[]): VerificationQuestion[] {
  return concepts.flatMap((concept) => {
    const name = `${concept.color} ${concept.shape}`;
    return [
      { concept, kind: 'existence' as const, question: `is there a ${name} in the image ?` },
      { concept, kind: 'count' as const, question: `how many ${concept.color} ${plural(concept.shape)} are there ?` },
      { concept, kind: 'size' as const, question: `what size is the ${name} ?` },
      { concept, kind: 'position' as const, question: `where is the ${name} ?` },
    ];
  });
}
