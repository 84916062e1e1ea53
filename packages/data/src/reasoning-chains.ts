import type { Rng } from '@mllm/core';
import { CELLS, COLORS, SHAPES, SIZES, categoryOf, cellPosition } from './scene';
import type { Cell, Scene, SceneObject } from './scene';
import { NUMBER_WORDS, RELATIONS } from './language';
import type { Relation } from './language';
import { ANSWER_MARKER, PLURAL, REASONING_PROMPT, reasoningQuestions, withReasoningPrompt } from './chain-of-thought';
import type { ReasoningQuestion, ReasoningSubject } from './chain-of-thought';

/**
 * Reasoning chains that carry what the answer needs: every object the chain looks at with its
 * cell, then the step that turns those into the answer (the count, written one number per
 * object, or the column / row comparison). The survey's (Yin et al. 2023, section 7.2) chain
 * structures and lengths are options:
 * - `single`: one chain of statements ("the top left has a small red circle .");
 * - `tree`: the question decomposed into sub-questions answered one by one ("what is at the
 *   top left ? a small red circle ."), then combined;
 * - `fixed` length: one step per grid cell, empty cells too, so every chain has the same
 *   number of object steps (predefined length);
 * - `adaptive` length: steps only for the objects the question is about.
 * How a chain carries what the answer needs to its last step is an option too (`carry`):
 * - `listed`: the objects are listed, then the count or the named objects' places are read back
 *   from the list ("counting the red ones : one , two .", "the red circle is at the top left .");
 * - `running`: every step holds the state so far, so no step has to search the chain: a count
 *   is kept at each matching object, which a filtered count checks where it stands ("the top
 *   left has a small red circle , is red , one ." / "..., not red ."), and the
 *   objects a spatial question names are placed first, in the question's order, straight from
 *   the image, then compared (a small model copies badly from far back in its own chain);
 * - `checked`: every step is a yes/no sub-question asked of the image, with what the question
 *   needs written before the decision, so no step compares words far apart: a count checks each
 *   cell for what it counts ("is the top left red ? yes , one ." / "is the top right red ?
 *   no ."), a spatial question checks each named object against the side its relation needs
 *   ("is the red circle at the left ? yes . is the blue square at the right ? yes ."); the
 *   answer is the last count, or yes when both checks are. Checked chains are sub-question
 *   chains in either style, and a count checks every cell whatever the length.
 * - `restated`: as `running`, but a filtered count restates what it counts after each object and
 *   answers yes or no ("the top left has a small red circle , red ? yes , one ." / "..., red ? no
 *   ."), so the decision follows the two words it compares at fixed distances, never the
 *   question's words far back;
 * - `described`: every cell is described first, and every later step reads only what those
 *   descriptions say: a count is kept at each matching object as in `running`, and a spatial or
 *   colour question is answered from the list as in `listed` (the named objects' places copied
 *   from it, then compared). Trained with counterfactual chains (`counterfactual-chains.ts`),
 *   whose descriptions differ from the image, the later steps can follow nothing but the text.
 * - `scanned`: as `running` for counts, but a spatial chain reads the image cell by cell, in
 *   order, whatever the length, and marks each object the question names with its column or row
 *   where it reads it ("the top left has a small red circle , the red circle is left ."); before
 *   the cells it copies the question's first object ("first asked : the blue square ."), after
 *   them it writes the object read first and that copy again, side by side, and whether they are
 *   the same ("read first : the red circle . first asked : the blue square . not the same ."),
 *   then compares the two sides in the question's order. A small LLM reads the object in a given
 *   cell reliably but not the cell of a named object (placed in its true cell in 19 of 52
 *   `running` placements), and copies a named object from the question right only where nothing
 *   in its chain competes; so the side comes from the reading order, the question's first object
 *   is copied before the chain holds any other, and the later copies follow their own anchors.
 * The final words are always "so the answer is X .", the marker the evaluation parses.
 */

export const CHAIN_STYLES = ['single', 'tree'] as const;
export type ChainStyle = (typeof CHAIN_STYLES)[number];
export const CHAIN_LENGTHS = ['fixed', 'adaptive'] as const;
export type ChainLength = (typeof CHAIN_LENGTHS)[number];

export const CHAIN_CARRIES = ['listed', 'running', 'checked', 'described', 'restated', 'scanned'] as const;
export type ChainCarry = (typeof CHAIN_CARRIES)[number];

export interface ChainOptions {
  style: ChainStyle;
  length: ChainLength;
  /** Default `listed`. */
  carry?: ChainCarry;
}

/** The word that stands for the missing step in an infilling prompt. */
export const INFILL_GAP = 'blank';
/** Asked after the chain with a gap: the infilling pattern's instruction. */
export const INFILL_PROMPT = 'what is the blank step ?';

/** "the top left has a small red circle ." / "what is at the top left ? a small red circle ." (", is red , two" when a running count is kept) */
function objectStep(style: ChainStyle, cell: Cell, o: SceneObject | undefined, tally?: string): string {
  const what = o ? `a ${o.size} ${o.color} ${o.shape}${tally ? ` , ${tally}` : ''}` : undefined;
  if (style === 'tree') return `what is at the ${cell} ? ${what ?? 'nothing'} .`;
  return what ? `the ${cell} has ${what} .` : `the ${cell} is empty .`;
}

/** Does `o` count towards a count question's answer? */
export function counts(o: SceneObject, filter: ReasoningSubject & { type: 'count' }): boolean {
  const f = filter.filter;
  return !f ? true : 'color' in f ? o.color === f.color : o.shape === f.shape;
}

/** The objects a question is about: all of them for a plain count, the matches for a filtered one. */
function relevant(scene: Scene, about: ReasoningSubject): SceneObject[] {
  if (about.type === 'color') return [about.object];
  if (about.type === 'spatial') return scene.objects.filter((o) => o === about.a || o === about.b);
  return scene.objects.filter((o) => counts(o, about));
}

/** "one , two , three" (one number per counted object), or "zero". */
function counting(n: number): string {
  return n === 0 ? NUMBER_WORDS[0] : NUMBER_WORDS.slice(1, n + 1).join(' , ');
}

/** The column words for left/right, the row words for above/below: what the relation compares. */
function side(o: SceneObject, relation: Relation): string {
  const p = cellPosition(o.cell);
  return relation === 'left of' || relation === 'right of' ? p.column : p.row;
}

/** A single chain's last step before the answer: the two named objects' columns or rows compared ("bottom is not above top ."). */
function comparison(about: ReasoningSubject & { type: 'spatial' }, answer: string): string {
  return `${side(about.a, about.relation)} is ${answer === 'yes' ? '' : 'not '}${about.relation} ${side(about.b, about.relation)} .`;
}

/** The steps after the object steps: the count, the colour, or where each object is and how the two compare. */
function combineSteps(style: ChainStyle, scene: Scene, about: ReasoningSubject, answer: string): string[] {
  if (about.type === 'count') {
    const n = relevant(scene, about).length;
    const f = about.filter;
    if (style === 'tree') return [`how many ${!f ? 'are there' : 'color' in f ? `are ${f.color}` : `are ${PLURAL[f.shape]}`} ? ${counting(n)} .`];
    return [`counting ${!f ? 'them' : 'color' in f ? `the ${f.color} ones` : `the ${PLURAL[f.shape]}`} : ${counting(n)} .`];
  }
  if (about.type === 'color') {
    const o = about.object;
    return [style === 'tree' ? `what color is the ${o.shape} ? ${o.color} .` : `the ${o.shape} is ${o.color} .`];
  }
  const { a, relation, b } = about;
  if (style === 'tree')
    return [`where is the ${categoryOf(a)} ? at the ${a.cell} .`, `where is the ${categoryOf(b)} ? at the ${b.cell} .`, `is ${side(a, relation)} ${relation} ${side(b, relation)} ? ${answer} .`];
  return [`the ${categoryOf(a)} is at the ${a.cell} .`, `the ${categoryOf(b)} is at the ${b.cell} .`, comparison(about, answer)];
}

/** What a count or spatial question asks about: the questions whose steps `carry` changes (a colour question's chain is the same in every carry). */
type CarriedSubject = Exclude<ReasoningSubject, { type: 'color' }>;

/** The steps of a chain, without the final "so the answer is X ." */
export function chainSteps(scene: Scene, q: ReasoningQuestion, options: ChainOptions): string[] {
  const byCell = new Map(scene.objects.map((o) => [o.cell, o] as const));
  const cells = options.length === 'fixed' ? CELLS : relevant(scene, q.about).map((o) => o.cell);
  const about = q.about;
  if (about.type === 'spatial' && options.carry === 'scanned') return scannedSteps(options.style, about, q.answer, byCell);
  const running = options.carry === 'running' || options.carry === 'restated' || options.carry === 'scanned' || (options.carry === 'described' && about.type === 'count');
  if (about.type !== 'color' && running) return runningSteps(scene, options.style, about, q.answer, cells, byCell, options.carry === 'restated');
  if (about.type !== 'color' && options.carry === 'checked') return checkedSteps(about, byCell);
  return [...cells.map((cell) => objectStep(options.style, cell, byCell.get(cell))), ...combineSteps(options.style, scene, about, q.answer)];
}

/** The `running` chain's steps: counts kept at each match, named objects placed before anything else. */
function runningSteps(scene: Scene, style: ChainStyle, about: CarriedSubject, answer: string, cells: readonly Cell[], byCell: ReadonlyMap<Cell, SceneObject>, restate = false): string[] {
  if (about.type === 'spatial') return combineSteps(style, scene, about, answer);
  let n = 0;
  const f = about.filter;
  // a filtered count says at each object whether it matches ("is red" / "not red"), next to the
  // object's own words, so the match is decided where both are in view, not against the question
  const filterWords = !f ? undefined : 'color' in f ? f.color : `a ${f.shape}`;
  return cells.map((cell) => {
    const o = byCell.get(cell);
    if (!o) return objectStep(style, cell, o);
    if (restate && filterWords) return objectStep(style, cell, o, counts(o, about) ? `${filterWords} ? yes , ${NUMBER_WORDS[++n]}` : `${filterWords} ? no`);
    if (!counts(o, about)) return objectStep(style, cell, o, `not ${filterWords}`);
    return objectStep(style, cell, o, `${filterWords ? `is ${filterWords} , ` : ''}${NUMBER_WORDS[++n]}`);
  });
}

/** The scanned chain's anchors: each is followed by the object it names, so the later copy reads the words after the same anchor. */
const FIRST_ASKED = 'first asked :';
const READ_FIRST = 'read first :';

/**
 * The `scanned` spatial chain's steps: the question's first object copied first ("first asked :
 * the red cross ."); every cell read in order, each object the question names marked with its
 * column or row where it is read ("the red circle is top"); the object read first and the first
 * asked side by side, each copied after its own words ("read first : the red circle . first
 * asked : the red cross . not the same ."), which says in which order the two marks give the
 * question's two sides; then the comparison.
 */
function scannedSteps(style: ChainStyle, about: ReasoningSubject & { type: 'spatial' }, answer: string, byCell: ReadonlyMap<Cell, SceneObject>): string[] {
  const read: SceneObject[] = [];
  const scan = CELLS.map((cell) => {
    const o = byCell.get(cell);
    if (!o || (o !== about.a && o !== about.b)) return objectStep(style, cell, o);
    read.push(o);
    return objectStep(style, cell, o, `the ${categoryOf(o)} is ${side(o, about.relation)}`);
  });
  const firstAsked = `${FIRST_ASKED} the ${categoryOf(about.a)} .`;
  return [
    firstAsked,
    ...scan,
    `${READ_FIRST} the ${categoryOf(read[0]!)} .`,
    firstAsked,
    `${read[0] === about.a ? '' : 'not '}the same .`,
    comparison(about, answer),
  ];
}

/** The side of the grid a relation needs its first and its second object on ("left of": left, right). */
export function relationSides(relation: Relation): [string, string] {
  const sides: Record<Relation, [string, string]> = { 'left of': ['left', 'right'], 'right of': ['right', 'left'], above: ['top', 'bottom'], below: ['bottom', 'top'] };
  return sides[relation];
}

/** Whether `o` lies on `sideWord` of the grid (a column or a row word). */
function onSide(o: SceneObject, sideWord: string): boolean {
  const p = cellPosition(o.cell);
  return p.column === sideWord || p.row === sideWord;
}

/** The sub-question a checked count asks of one cell: "is the top left red ?", "is the top left a square ?", "is there an object at the top left ?". */
export function cellCheckQuestion(cell: Cell, filter: (ReasoningSubject & { type: 'count' })['filter']): string {
  if (!filter) return `is there an object at the ${cell} ?`;
  return 'color' in filter ? `is the ${cell} ${filter.color} ?` : `is the ${cell} a ${filter.shape} ?`;
}

/** The `checked` chain's steps: yes/no sub-questions with the count kept at each yes (every cell, whatever the length), or the two named objects checked against their sides. */
function checkedSteps(about: CarriedSubject, byCell: ReadonlyMap<Cell, SceneObject>): string[] {
  if (about.type === 'spatial') {
    const [sideA, sideB] = relationSides(about.relation);
    const check = (o: SceneObject, sideWord: string) => `is the ${categoryOf(o)} at the ${sideWord} ? ${onSide(o, sideWord) ? 'yes' : 'no'} .`;
    return [check(about.a, sideA), check(about.b, sideB)];
  }
  let n = 0;
  return CELLS.map((cell) => {
    const o = byCell.get(cell);
    const yes = o !== undefined && counts(o, about);
    return `${cellCheckQuestion(cell, about.filter)} ${yes ? `yes , ${NUMBER_WORDS[++n]}` : 'no'} .`;
  });
}

/** The whole chain: its steps, then "so the answer is X ." */
export function buildChain(scene: Scene, q: ReasoningQuestion, options: ChainOptions): string {
  return [...chainSteps(scene, q, options), `${ANSWER_MARKER} ${q.answer} .`].join(' ');
}

/**
 * The infilling pattern (survey section 7.2: a step deduced from the steps around it): the
 * question with the chain in which one step is replaced by "blank", and that step as the
 * reply. The predicting pattern is `buildChain` asked with the step-by-step prompt.
 */
export function infillingTurn(scene: Scene, q: ReasoningQuestion, options: ChainOptions, rng: Rng): { prompt: string; reply: string } {
  const steps = [...chainSteps(scene, q, options), `${ANSWER_MARKER} ${q.answer} .`];
  const gap = rng.int(steps.length - 1); // never the final answer: that would be the direct question again
  const shown = steps.map((s, i) => (i === gap ? `${INFILL_GAP} .` : s)).join(' ');
  return { prompt: `${withReasoningPrompt(q.question)} ${shown} ${INFILL_PROMPT}`, reply: steps[gap]! };
}

/**
 * Text for the word tokenizer when a run trains these chains: every step phrase over all
 * cells, sizes, colours, shapes, relations and counts, plus the chains of `scenes` in both
 * styles and lengths (so word frequencies follow what training shows). Kept apart from
 * `reasoningCorpus`, so runs with the original chains keep their vocabulary; the checked
 * chains' sub-questions join only for `carry: "checked"`, so other runs keep their ids.
 */
export function chainCorpus(scenes: readonly Scene[], rng: Rng, carry: ChainCarry = 'listed'): string[] {
  const checked = carry === 'checked';
  const text = new Set<string>([REASONING_PROMPT, INFILL_PROMPT, `${INFILL_GAP} .`, `${ANSWER_MARKER} yes no .`]);
  for (const cell of CELLS) text.add(`the ${cell} has a ${SIZES.join(' ')} is empty . what is at the ${cell} ? nothing . where is the ? at the ${cell} .`);
  for (const c of COLORS) text.add(`counting the ${c} ones : ${counting(4)} . how many are ${c} ? zero . what color is the ? ${c} .`);
  for (const s of SHAPES) text.add(`counting the ${PLURAL[s]} : counting them : how many are ${PLURAL[s]} ? how many are there ? the ${s} is a ${s} .`);
  for (const r of RELATIONS) text.add(`left is not ${r} right . top is ${r} bottom . is left ${r} right ? yes . is top ${r} bottom ? no .`);
  if (carry === 'scanned') text.add(`${FIRST_ASKED} ${READ_FIRST} not the same .`);
  if (checked) {
    for (const cell of CELLS) text.add(`${cellCheckQuestion(cell, undefined)} yes , one . ${COLORS.map((c) => cellCheckQuestion(cell, { color: c })).join(' ')} ${SHAPES.map((sh) => cellCheckQuestion(cell, { shape: sh })).join(' ')} no .`);
    for (const c of COLORS) for (const sh of SHAPES) text.add(['left', 'right', 'top', 'bottom'].map((side) => `is the ${c} ${sh} at the ${side} ?`).join(' ') + ' yes . no .');
  }
  for (const scene of scenes) {
    for (const q of reasoningQuestions(scene, rng)) {
      text.add(withReasoningPrompt(q.question));
      for (const style of CHAIN_STYLES) for (const length of CHAIN_LENGTHS) text.add(buildChain(scene, q, { style, length }));
      if (checked) text.add(buildChain(scene, q, { style: 'tree', length: 'fixed', carry: 'checked' }));
    }
  }
  return [...text];
}
