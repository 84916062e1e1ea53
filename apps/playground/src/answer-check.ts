import { chairMentions, checkCaption, type CaptionCheck } from '@mllm/eval';
import { checkDescription, type DescriptionCheck, type Scene } from '@mllm/data';

/** Part of a mention the scene has, of one it lacks, or neither. */
export type Mark = 'grounded' | 'hallucinated' | undefined;

/**
 * An answer about a Shapes scene against the scene's ground truth, with the evaluation's own
 * checkers: CHAIR's object mentions (@mllm/eval checkCaption: which "<colour> <shape>" the answer
 * names that the scene lacks) and the claim-by-claim description check of @mllm/data
 * (existence, attribute and relationship hallucinations, the stated count).
 */
export interface AnswerCheck {
  caption: CaptionCheck;
  description: DescriptionCheck;
  /** The answer's words (runs of non-space) with where each starts and ends in the text. */
  words: { word: string; start: number; end: number }[];
  /** Per word: part of a mention the scene has, of one it lacks, or neither. */
  marks: Mark[];
}

export function checkAnswer(text: string, scene: Scene): AnswerCheck {
  const words = [...text.matchAll(/\S+/g)].map((m) => ({ word: m[0], start: m.index, end: m.index + m[0].length }));
  const caption = checkCaption(text, scene);
  const truth = new Set(caption.groundTruth);
  const marks: Mark[] = words.map(() => undefined);
  // the same adjacent-pair rule as the CHAIR count, applied word pair by word pair to place the marks
  for (let i = 0; i + 1 < words.length; i++) {
    const [mention] = chairMentions(`${words[i]!.word} ${words[i + 1]!.word}`);
    if (mention === undefined) continue;
    const mark = truth.has(mention) ? 'grounded' : 'hallucinated';
    marks[i] = mark;
    marks[i + 1] = mark;
  }
  return { caption, description: checkDescription(scene, text), words, marks };
}

/**
 * The mark of each streamed piece (they join to the checked text): that of the words it
 * overlaps, hallucinated over grounded, so a mention split into BPE pieces is marked on each.
 */
export function pieceMarks(pieces: readonly string[], check: AnswerCheck): Mark[] {
  let start = 0;
  return pieces.map((piece) => {
    const end = start + piece.length;
    const overlapping = check.marks.filter((_, i) => check.words[i]!.start < end && check.words[i]!.end > start);
    start = end;
    return overlapping.includes('hallucinated') ? 'hallucinated' : overlapping.includes('grounded') ? 'grounded' : undefined;
  });
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
