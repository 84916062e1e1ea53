// Post-correction of hallucinated answers (the survey's third mitigation point, after generation).
export { woodpeckerCorrect, type PostCorrection } from './woodpecker';
export { keyConcepts, verificationQuestions, type KeyConcept, type VerificationQuestion } from './key-concepts';
export { visualClaims, type VisualClaim } from './visual-claims';
export { rewriteAnswer, type Correction, type RewriteOptions } from './rewrite';
export { fixedExpert, type SeenObject, type ObjectExpert } from './visual-expert';
