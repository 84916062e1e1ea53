import { chairMentions, checkCaption, type CaptionCheck } from '@mllm/eval';
import { checkDescription, type DescriptionCheck, type Scene } from '@mllm/data';

/**
 * An answer about a Shapes scene against the scene's ground truth, with the evaluation's own
 * checkers: CHAIR's object mentions (@mllm/eval checkCaption: which "<colour> <shape>" the answer
 * names that the scene lacks) and the claim-by-claim description check of @mllm/data
 * (existence, attribute and relationship hallucinations, the stated count).
 */
export interface AnswerCheck {
  caption: CaptionCheck;
  description: DescriptionCheck;
  /** Per answer word: part of a mention the scene has, of one it lacks, or neither. */
  marks: ('grounded' | 'hallucinated' | undefined)[];
}

export function checkAnswer(words: readonly string[], scene: Scene): AnswerCheck {
  const text = words.join(' ');
  const caption = checkCaption(text, scene);
  const truth = new Set(caption.groundTruth);
  const marks: AnswerCheck['marks'] = words.map(() => undefined);
  // the same adjacent-pair rule as the CHAIR count, applied word pair by word pair to place the marks
  for (let i = 0; i + 1 < words.length; i++) {
    const [mention] = chairMentions(`${words[i]} ${words[i + 1]}`);
    if (mention === undefined) continue;
    const mark = truth.has(mention) ? 'grounded' : 'hallucinated';
    marks[i] = mark;
    marks[i + 1] = mark;
  }
  return { caption, description: checkDescription(scene, text), marks };
}

/** One line a person reads: what was right and what was made up. */
export function summarize(check: AnswerCheck): string {
  const { caption, description } = check;
  const parts = [`objects named: ${caption.mentions.length}, not in the scene: ${caption.hallucinated.length}${caption.hallucinated.length ? ` (${[...new Set(caption.hallucinated)].join(', ')})` : ''}`];
  if (description.claims > 0)
    parts.push(`claims: ${description.claims} (existence errors ${description.existence}, attribute ${description.attribute}, relationship ${description.relationship})`);
  if (description.count) parts.push(`count said ${description.count.stated}, scene has ${description.count.actual}`);
  return parts.join(' · ');
}
