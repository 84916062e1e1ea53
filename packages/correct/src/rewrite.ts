import { SHAPES_VOCABULARY, SPATIAL_RELATIONS, cellRelationHolds } from '@mllm/eval';
import type { SeenObject } from './visual-expert';

/**
 * Woodpecker's last stage, hallucination correction, done by rules rather than an LLM: each
 * sentence is edited where what the expert sees contradicts it, and only there, so a faithful
 * answer comes back unchanged, character for character.
 *   - an object that is not there becomes the object seen at the cell the sentence names, or
 *     its sentence is dropped when nothing is seen there;
 *   - a wrong size or cell of an object that is there is replaced by the one seen, unless every
 *     such object is placed at its own cell elsewhere in the answer: then the object seen at the
 *     cell this sentence names replaces it (the answer misnamed that cell's object);
 *   - a wrong count ("there are three objects", "two red circles") is replaced by the count seen;
 *   - a relation that holds between no two distinct objects the mentions may name (any object
 *     of a kind, where a mention names no cell) is replaced by one that does, or the sentence
 *     dropped when none does.
 * Every edit is returned with the claim that made it. With `minConfidence`, an object the answer
 * names at a cell where the expert saw something else, but less surely than that, is left as it
 * is: Woodpecker's detector reports only detections above a threshold, and an unsure expert
 * rewrites right answers as often as wrong ones. With `refuteBelow`, the verification question
 * is the answer's own ("is there a green square at the top left ?"): its object is overruled
 * only where the expert, seeing that colour there, gives the named shape less than that
 * probability; a confident call that still leaves the named shape a fair chance is no refutation.
 */
export interface RewriteOptions {
  /** Below this confidence the expert's object at a cell does not overrule the answer (default 0: every object does). */
  minConfidence?: number;
  /**
   * The expert's probability of the shape the answer names, at or above which the answer stands
   * (needs `SeenObject.shapeProbabilities`; default: unset, the expert's call alone decides).
   */
  refuteBelow?: number;
}

export interface Correction {
  /** The text before and after ('' after: the sentence was dropped). */
  before: string;
  after: string;
  /** The visual knowledge that contradicts `before`. */
  claim: string;
}

interface Word {
  lower: string;
  start: number;
  end: number;
}

const COLORS = new Set(SHAPES_VOCABULARY.colors);
const SHAPES = SHAPES_VOCABULARY.shapes;
const SIZES = new Set(['small', 'large']);
const LINKS = new Set(['is', 'at', 'in', 'on', 'the']);
const NUMBERS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

const shapeOf = (w: string | undefined) => SHAPES.find((s) => w === s || w === `${s}s` || w === `${s}es`);
const pluralOf = (shape: string) => (/(s|x|z|ch|sh)$/.test(shape) ? `${shape}es` : `${shape}s`);

interface Mention {
  color: string;
  shape: string;
  size?: string;
  cell?: string;
  /** Word indices: the size (or colour) word, the shape word, and the row / column words of the cell. */
  first: number;
  last: number;
  sizeAt?: number;
  cellAt?: number;
}

const wordsOf = (text: string): Word[] => [...text.matchAll(/[A-Za-z]+/g)].map((m) => ({ lower: m[0].toLowerCase(), start: m.index!, end: m.index! + m[0].length }));

function mentionsOf(words: readonly Word[]): Mention[] {
  const out: Mention[] = [];
  for (let i = 0; i + 1 < words.length; i++) {
    const shape = shapeOf(words[i + 1]!.lower);
    if (!COLORS.has(words[i]!.lower) || !shape) continue;
    const sizeAt = i > 0 && SIZES.has(words[i - 1]!.lower) ? i - 1 : undefined;
    let k = i + 2;
    while (k < words.length && k < i + 5 && LINKS.has(words[k]!.lower)) k++;
    const linked = words.slice(i + 2, k).some((w) => ['at', 'in', 'on'].includes(w.lower));
    const [row, column] = [words[k]?.lower, words[k + 1]?.lower];
    const cellAt = linked && (row === 'top' || row === 'bottom') && (column === 'left' || column === 'right') ? k : undefined;
    out.push({
      color: words[i]!.lower,
      shape,
      first: sizeAt ?? i,
      last: i + 1,
      ...(sizeAt !== undefined && { size: words[sizeAt]!.lower, sizeAt }),
      ...(cellAt !== undefined && { cell: `${row} ${column}`, cellAt }),
    });
  }
  return out;
}

interface Edit {
  start: number;
  end: number;
  text: string;
  claim: string;
}

/**
 * One sentence corrected against `seen`: its edits, or `drop` with the claim that removes it.
 * `cellsNamed`: every cell some mention in the whole answer places an object at.
 */
function sentenceEdits(sentence: string, seen: readonly SeenObject[], cellsNamed: ReadonlySet<string>, options: RewriteOptions): { edits: Edit[] } | { drop: string } {
  const minConfidence = options.minConfidence ?? 0;
  const words = wordsOf(sentence);
  const span = (from: number, to: number) => ({ start: words[from]!.start, end: words[to]!.end });
  const edits: Edit[] = [];
  const mentions = mentionsOf(words);
  // the objects each mention may name, after its own corrections (relations are checked on
  // these; empty: the mention stands unverified and no relation is checked on it)
  const named: SeenObject[][] = [];
  // the object at the mention's cell replaces it, with the claim that it is there
  const becomes = (m: Mention, there: SeenObject, claim: string) => {
    const text = [m.size !== undefined ? there.size : undefined, there.color, there.shape].filter(Boolean).join(' ');
    edits.push({ ...span(m.first, m.last), text, claim: `${claim}; the ${m.cell} holds a ${[there.size, there.color, there.shape].filter(Boolean).join(' ')}` });
    named.push([there]);
  };
  for (const m of mentions) {
    const matches = seen.filter((o) => o.color === m.color && o.shape === m.shape);
    const there = m.cell ? seen.find((o) => o.cell === m.cell) : undefined;
    // the object the answer means may be one the expert is unsure of, or one it gives the named
    // shape a fair chance at: at its cell, or anywhere when it names none
    const possible = (o: SeenObject | undefined) =>
      o !== undefined &&
      ((o.confidence ?? 1) < minConfidence || (options.refuteBelow !== undefined && o.color === m.color && (o.shapeProbabilities?.[m.shape] ?? 0) >= options.refuteBelow));
    if (matches.length === 0) {
      if (m.cell ? possible(there) : seen.some(possible)) {
        named.push([]);
        continue;
      }
      if (!there) return { drop: `there is no ${m.color} ${m.shape}` };
      becomes(m, there, `there is no ${m.color} ${m.shape}`);
      continue;
    }
    const atCell = m.cell ? matches.filter((o) => o.cell === m.cell) : [];
    let target = atCell[0] ?? matches[0]!;
    if (m.cell && atCell.length === 0) {
      if (possible(there)) {
        named.push([]);
        continue;
      }
      // the named object is elsewhere and something else is here: the answer misplaced the object
      // (move it) or misnamed the cell's (rename it); it misnamed it when every such object is
      // already placed at its own cell by another mention
      const unplaced = matches.filter((o) => !o.cell || !cellsNamed.has(o.cell));
      if (there && unplaced.length === 0) {
        becomes(m, there, `the ${m.color} ${m.shape} is at the ${matches.map((o) => o.cell).join(' and the ')}`);
        continue;
      }
      target = unplaced[0] ?? target;
    }
    // a mention without a cell may mean any object of its kind (of its size, when one is)
    named.push(m.cell ? [target] : matches.some((o) => o.size === m.size) ? matches.filter((o) => o.size === m.size) : matches);
    if (m.sizeAt !== undefined && target.size && !(atCell.length > 0 ? atCell : matches).some((o) => o.size === m.size))
      edits.push({ ...span(m.sizeAt, m.sizeAt), text: target.size, claim: `the ${m.color} ${m.shape} is ${target.size}` });
    if (m.cellAt !== undefined && atCell.length === 0 && target.cell)
      edits.push({ ...span(m.cellAt, m.cellAt + 1), text: target.cell, claim: `the ${m.color} ${m.shape} is at the ${target.cell}` });
  }
  // relations between two mentions: "<a> is left of the <b>", true of some two distinct objects they may name
  for (let n = 0; n + 1 < mentions.length; n++) {
    const [a, b] = [mentions[n]!, mentions[n + 1]!];
    const between = words.slice(a.last + 1, b.first).map((w) => w.lower);
    const relation = SPATIAL_RELATIONS.find((r) => between.join(' ').includes(r));
    if (!relation) continue;
    const [as, bs] = [named[n]!, named[n + 1]!];
    // unverified mentions, or an expert that gives no cells, leave the relation as it is
    if (as.length === 0 || bs.length === 0 || [...as, ...bs].some((o) => !o.cell)) continue;
    const pairs = as.flatMap((sa) => bs.filter((sb) => sb !== sa).map((sb) => [sa, sb] as const));
    if (pairs.some(([sa, sb]) => cellRelationHolds(sa.cell!, relation, sb.cell!))) continue;
    if (pairs.length === 0) return { drop: `there is one ${a.color} ${a.shape}` };
    const [sa, sb] = pairs[0]!;
    const fix = SPATIAL_RELATIONS.find((r) => cellRelationHolds(sa.cell!, r, sb.cell!));
    const claim = `the ${sa.color} ${sa.shape} is at the ${sa.cell} and the ${sb.color} ${sb.shape} at the ${sb.cell}`;
    if (!fix) return { drop: claim };
    const at = a.last + 1 + between.findIndex((_, k) => between.slice(k).join(' ').startsWith(relation));
    edits.push({ ...span(at, at + relation.split(' ').length - 1), text: fix, claim });
  }
  // counts: "there are N objects", "N red circles", "the only object"
  words.forEach((w, i) => {
    if (w.lower === 'only' && shapeOf(words[i + 1]?.lower) === undefined && words[i + 1]?.lower === 'object' && seen.length !== 1) edits.push({ start: -1, end: -1, text: '', claim: `there are ${NUMBERS[seen.length]} objects` });
    const n = NUMBERS.indexOf(w.lower);
    if (n < 0) return;
    const next = words[i + 1]?.lower;
    const color = next && COLORS.has(next) ? next : undefined;
    const said = words[i + (color ? 2 : 1)]?.lower;
    const shape = shapeOf(said);
    if (said !== 'object' && said !== 'objects' && !shape) return;
    const actual = seen.filter((o) => (!color || o.color === color) && (!shape || o.shape === shape)).length;
    if (actual === n || actual >= NUMBERS.length) return;
    // "there are two objects" -> "there is one object": verb, number and noun agree again
    const nounAt = i + (color ? 2 : 1);
    const from = i > 0 && (words[i - 1]!.lower === 'is' || words[i - 1]!.lower === 'are') ? i - 1 : i;
    const noun = actual === 1 ? (shape ?? 'object') : pluralOf(shape ?? 'object');
    const phrase = `${NUMBERS[actual]} ${color ? `${color} ` : ''}${noun}`;
    edits.push({ ...span(from, nounAt), text: from < i ? `${actual === 1 ? 'is' : 'are'} ${phrase}` : phrase, claim: `there ${actual === 1 ? 'is' : 'are'} ${phrase}` });
  });
  const only = edits.find((e) => e.start < 0);
  if (only) return { drop: only.claim };
  return { edits };
}

/** Sentences with the delimiter and spacing that follow them, so joining them gives the text back. */
function sentences(text: string): string[] {
  return text.match(/[^.!?]*[.!?]+\s*|[^.!?]+$/g) ?? [];
}

/** The answer corrected against what the expert sees, and every correction made. */
export function rewriteAnswer(answer: string, seen: readonly SeenObject[], options: RewriteOptions = {}): { corrected: string; corrections: Correction[] } {
  const corrections: Correction[] = [];
  const cellsNamed = new Set(mentionsOf(wordsOf(answer)).flatMap((m) => (m.cell ? [m.cell] : [])));
  const out = sentences(answer).map((sentence) => {
    const result = sentenceEdits(sentence, seen, cellsNamed, options);
    if ('drop' in result) {
      corrections.push({ before: sentence.trim(), after: '', claim: result.drop });
      return '';
    }
    if (result.edits.length === 0) return sentence;
    let text = sentence;
    for (const e of [...result.edits].sort((x, y) => y.start - x.start)) text = text.slice(0, e.start) + e.text + text.slice(e.end);
    for (const e of result.edits) corrections.push({ before: sentence.slice(e.start, e.end), after: e.text, claim: e.claim });
    return text;
  });
  return { corrected: out.join('').trim() === answer.trim() ? answer : out.join('').trimEnd(), corrections };
}
