import { keyConcepts, verificationQuestions, type KeyConcept } from './key-concepts';
import { rewriteAnswer, type Correction, type RewriteOptions } from './rewrite';
import { visualClaims, type VisualClaim } from './visual-claims';
import type { ObjectExpert } from './visual-expert';

/**
 * Woodpecker-style post-correction (Yin et al. 2023, "Woodpecker: Hallucination Correction for
 * Multimodal Large Language Models"), training-free, in its five stages: key concepts of the
 * answer, verification questions about them, answers from a visual expert, visual claims, and
 * a rewrite of the answer against those claims. What is printed and reported is the corrected
 * answer together with the claims and the corrections they caused.
 */
export interface PostCorrection {
  answer: string;
  corrected: string;
  changed: boolean;
  concepts: KeyConcept[];
  claims: VisualClaim[];
  corrections: Correction[];
}

export async function woodpeckerCorrect(answer: string, expert: ObjectExpert, options: RewriteOptions = {}): Promise<PostCorrection> {
  const concepts = keyConcepts(answer);
  const seen = await expert.objects();
  const claims = visualClaims(verificationQuestions(concepts), seen);
  const { corrected, corrections } = rewriteAnswer(answer, seen, options);
  return { answer, corrected, changed: corrected !== answer, concepts, claims, corrections };
}
