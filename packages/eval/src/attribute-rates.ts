/**
 * Accuracy per object attribute (shape, colour, size, position, count in the Shapes world) of a
 * set of texts, from per-text tallies a judge makes (e.g. @mllm/data's `attributeCheck`): it
 * names which information a model's descriptions lose, where CHAIR and the hallucination kinds
 * only say that something was wrong.
 */

/** One text's chances to state each attribute and how many it got right; injected so eval needs no scene model. */
export type AttributeTally = Record<string, { correct: number; total: number }>;
export type AttributeJudge = (sceneId: string, text: string) => AttributeTally;

export interface AttributeRates {
  /** correct / total per attribute, over every text (0 for an attribute with no chances). */
  accuracy: Record<string, number>;
  /** Chances per attribute (objects, or scenes for a count), what each accuracy divides by. */
  totals: Record<string, number>;
}

/** Sums tallies attribute by attribute into accuracies. */
export function attributeRates(tallies: readonly AttributeTally[]): AttributeRates {
  const sums = new Map<string, { correct: number; total: number }>();
  for (const tally of tallies)
    for (const [attribute, { correct, total }] of Object.entries(tally)) {
      const sum = sums.get(attribute) ?? { correct: 0, total: 0 };
      sum.correct += correct;
      sum.total += total;
      sums.set(attribute, sum);
    }
  const entries = [...sums];
  return {
    accuracy: Object.fromEntries(entries.map(([a, s]) => [a, s.total > 0 ? s.correct / s.total : 0])),
    totals: Object.fromEntries(entries.map(([a, s]) => [a, s.total])),
  };
}

/** What an expert model wrote about the evaluation scenes (the expert bridge's captions), scored as the answers are. */
export interface ExpertTextReport {
  /** The same attribute accuracies as a detailed description's: the ceiling of what the LLM can learn from the text. */
  attributes: AttributeRates;
  /** The first texts, as the LLM read them. */
  samples: { sceneId: string; text: string }[];
}
