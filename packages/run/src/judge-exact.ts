import { checkDescription, type Scene } from '@mllm/data';
import { faithScore } from '@mllm/eval';

/**
 * What the exact checkers say of a response about a scene: the labels a learned judge is
 * trained on and measured against.
 */
export interface ExactVerdict {
  /**
   * Some claim is false: the description checker (packages/data) finds an existence, attribute
   * or relationship hallucination or a wrong count sentence, or FaithScore finds an atomic fact
   * the ground truth does not support (it also reads "it is the only object", "two red circles"
   * and a relation between two names of one object). Saying less is never a hallucination.
   */
  hallucinates: boolean;
  /** 10 x the response's FaithScore against the ground truth; undefined when it states no fact. */
  score?: number;
}

/** The exact verdict of `text` about `scene`: the union of both checkers' refutations, and the FaithScore scale. */
export function exactVerdict(scene: Scene, text: string): ExactVerdict {
  const check = checkDescription(scene, text);
  const wrongCount = check.count !== undefined && check.count.stated !== check.count.actual;
  const faith = faithScore([{ text, scene }]);
  const unverified = faith.facts > 0 && faith.score < 1;
  return {
    hallucinates: check.existence + check.attribute + check.relationship > 0 || wrongCount || unverified,
    ...(faith.facts > 0 && { score: 10 * faith.score }),
  };
}
