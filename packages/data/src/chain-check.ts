import { CELLS, COLORS, SHAPES, SIZES } from './scene';
import type { Cell, Color, SceneObject, Shape, Size } from './scene';
import { NUMBER_WORDS, RELATIONS, holds } from './language';
import type { Relation } from './language';
import { PLURAL } from './chain-of-thought';
import { relationSides } from './reasoning-chains';

/**
 * A chain's consistency with itself: read the objects and positions its steps state, work the
 * question's answer out from them alone, and compare with the answer the chain states. A
 * chain that lists two red objects and then answers "one" contradicts its own steps, whether
 * or not the image agrees with either.
 */

const alt = (words: readonly string[]) => `(${words.join('|')})`;
const CELL = alt(CELLS);
const OBJECT = `${alt(SIZES)} ${alt(COLORS)} ${alt(SHAPES)}`;
const CATEGORY = `${alt(COLORS)} ${alt(SHAPES)}`;

/**
 * A running count's words after an object ("a small red circle , is red , two .", "..., not red .",
 * "..., red ? yes , two ."), or a scanned spatial chain's mark ("..., the red circle is left ."):
 * the chain's bookkeeping, not a fact about the object.
 */
const TALLY = `(?: , (?:(?:is |not )(?:a )?${alt([...COLORS, ...SHAPES])}|(?:a )?${alt([...COLORS, ...SHAPES])} \\? (?:yes|no)|${alt(NUMBER_WORDS.slice(1))}|the ${alt(COLORS)} ${alt(SHAPES)} is (?:left|right|top|bottom)))*`;
/** Object statements a chain may make, each giving a cell and size, colour, shape (groups in that order after `cell`). */
const LISTED: { pattern: RegExp; cellFirst: boolean }[] = [
  { pattern: new RegExp(`the ${CELL} has a ${OBJECT}${TALLY} \\.`, 'g'), cellFirst: true }, // single chains
  { pattern: new RegExp(`what is at the ${CELL} \\? a ${OBJECT}${TALLY} \\.`, 'g'), cellFirst: true }, // tree chains
  { pattern: new RegExp(`a ${OBJECT} at the ${CELL}`, 'g'), cellFirst: false }, // the original object list
];
/** A checked count's sub-question about one cell and its yes/no: "is the top left red ? yes", "is the top left a square ? no", "is there an object at the top left ? yes". */
const CELL_CHECK = new RegExp(`is (?:the ${CELL} (?:${alt(COLORS)}|a ${alt(SHAPES)})|there an object at the ${CELL}) \\? (yes|no)`, 'g');
/** A checked spatial chain's sub-question about a named object and a side: "is the red circle at the left ? yes". */
const SIDE_CHECK = new RegExp(`is the ${CATEGORY} at the (left|right|top|bottom) \\? (yes|no)`, 'g');

/** Where a chain says a named object is: "the red circle is at the top left", "where is the red circle ? at the top left". */
const PLACED = [new RegExp(`the ${CATEGORY} is at the ${CELL}`, 'g'), new RegExp(`where is the ${CATEGORY} \\? at the ${CELL}`, 'g')];

type Listed = Pick<SceneObject, 'size' | 'color' | 'shape' | 'cell'>;

/** The question's subject, read back from its words. */
type Asked =
  | { type: 'count'; color?: Color; shape?: Shape }
  | { type: 'color'; shape: Shape }
  | { type: 'spatial'; a: { color: Color; shape: Shape }; relation: Relation; b: { color: Color; shape: Shape } };

const SINGULAR = Object.fromEntries(SHAPES.map((s) => [PLURAL[s], s])) as Record<string, Shape>;

/** Parses a reasoning question of `reasoningQuestions`; undefined for any other text. */
export function parseReasoningQuestion(question: string): Asked | undefined {
  const q = question.trim().toLowerCase().replace(/\s+/g, ' ');
  let m = new RegExp(`^how many (?:objects|${alt(COLORS)} objects|${alt(Object.keys(SINGULAR))}) are there \\?$`).exec(q);
  if (m) return { type: 'count', ...(m[1] && { color: m[1] as Color }), ...(m[2] && { shape: SINGULAR[m[2]] }) };
  m = new RegExp(`^what color is the ${alt(SHAPES)} \\?$`).exec(q);
  if (m) return { type: 'color', shape: m[1] as Shape };
  m = new RegExp(`^is the ${CATEGORY} ${alt(RELATIONS)} the ${CATEGORY} \\?$`).exec(q);
  if (m) return { type: 'spatial', a: { color: m[1] as Color, shape: m[2] as Shape }, relation: m[3] as Relation, b: { color: m[4] as Color, shape: m[5] as Shape } };
  return undefined;
}

/** The objects a chain states, one per cell (a cell's first statement wins), in the order stated. */
export function listedObjects(chain: string): Listed[] {
  const text = chain.toLowerCase().replace(/\s+/g, ' ');
  const found: { at: number; o: Listed }[] = [];
  for (const { pattern, cellFirst } of LISTED) {
    for (const m of text.matchAll(pattern)) {
      const [cell, size, color, shape] = cellFirst ? [m[1], m[2], m[3], m[4]] : [m[4], m[1], m[2], m[3]];
      found.push({ at: m.index, o: { cell: cell as Cell, size: size as Size, color: color as Color, shape: shape as Shape } });
    }
  }
  const byCell = new Map<Cell, Listed>();
  for (const { o } of found.sort((x, y) => x.at - y.at)) if (!byCell.has(o.cell)) byCell.set(o.cell, o);
  return [...byCell.values()];
}

/** Where the chain puts the object of a category: its own placement statement first, else the one listed object of that category. */
function placeOf(text: string, listed: Listed[], target: { color: Color; shape: Shape }): Cell | undefined {
  for (const pattern of PLACED) for (const m of text.matchAll(pattern)) if (m[1] === target.color && m[2] === target.shape) return m[3] as Cell;
  const hits = listed.filter((o) => o.color === target.color && o.shape === target.shape);
  return hits.length === 1 ? hits[0]!.cell : undefined;
}

/**
 * The answer that follows from a chain's own steps, or undefined when they do not give one
 * (the question is not a reasoning question, an object the question names is never placed,
 * or "what color" finds no single object of the shape).
 *
 *   chainImpliedAnswer('how many red objects are there ?', 'the top left has a small red circle . ... so the answer is two .') // 'one' when one red object is listed
 */
export function chainImpliedAnswer(question: string, chain: string): string | undefined {
  const asked = parseReasoningQuestion(question);
  if (!asked) return undefined;
  const text = chain.toLowerCase().replace(/\s+/g, ' ');
  const checked = checkedAnswer(asked, text);
  if (checked.checks) return checked.answer;
  const listed = listedObjects(text);
  if (asked.type === 'count') return NUMBER_WORDS[listed.filter((o) => (!asked.color || o.color === asked.color) && (!asked.shape || o.shape === asked.shape)).length];
  if (asked.type === 'color') {
    const hits = listed.filter((o) => o.shape === asked.shape);
    return hits.length === 1 ? hits[0]!.color : undefined;
  }
  const [a, b] = [placeOf(text, listed, asked.a), placeOf(text, listed, asked.b)];
  if (!a || !b || a === b) return undefined;
  return holds({ cell: a } as SceneObject, asked.relation, { cell: b } as SceneObject) ? 'yes' : 'no';
}

/**
 * What a checked chain's sub-questions imply: for a count, the cells answered yes among those
 * checked for what the question counts (a cell's first check wins; checks of another colour or
 * shape are not about the question); for a spatial question, yes when the first named object
 * is checked yes on the side the relation needs and the second on the other side, no when
 * either is checked no, nothing when either check is missing. `checks` is false for a chain
 * without sub-questions, which is read by its listed objects instead.
 */
function checkedAnswer(asked: Asked, text: string): { checks: boolean; answer?: string } {
  if (asked.type === 'count') {
    const found = [...text.matchAll(CELL_CHECK)];
    if (found.length === 0) return { checks: false };
    const verdicts = new Map<string, boolean>();
    for (const m of found) {
      const [cell, color, shape, anyCell, verdict] = [m[1], m[2], m[3], m[4], m[5]];
      const about = anyCell ? !asked.color && !asked.shape : color ? color === asked.color && !asked.shape : shape === asked.shape && !asked.color;
      const at = (cell ?? anyCell)!;
      if (about && !verdicts.has(at)) verdicts.set(at, verdict === 'yes');
    }
    return { checks: true, answer: NUMBER_WORDS[[...verdicts.values()].filter(Boolean).length] };
  }
  if (asked.type !== 'spatial') return { checks: false };
  const found = [...text.matchAll(SIDE_CHECK)];
  if (found.length === 0) return { checks: false };
  const [sideA, sideB] = relationSides(asked.relation);
  const verdict = (o: { color: Color; shape: Shape }, sideWord: string) => found.find((m) => m[1] === o.color && m[2] === o.shape && m[3] === sideWord)?.[4];
  const [a, b] = [verdict(asked.a, sideA), verdict(asked.b, sideB)];
  if (a === 'no' || b === 'no') return { checks: true, answer: 'no' };
  return { checks: true, answer: a === 'yes' && b === 'yes' ? 'yes' : undefined };
}
