import { COLORS, SHAPES, categoryOf } from './scene';
import type { Scene } from './scene';
import { NUMBER_WORDS, RELATIONS, caption, detailedDescription, holds, type Relation } from './language';
import type { InstructionTask } from './instruction-phrasings';

/** What an instruction asks, read back from its words: the task and its slot values. */
export interface ParsedInstruction {
  task: InstructionTask;
  slots: Record<string, string>;
}

const COLOR_WORDS: ReadonlySet<string> = new Set(COLORS);
const SHAPE_WORDS: ReadonlySet<string> = new Set(SHAPES);

/** Lower-cased words with the punctuation tokens split off, as the word tokenizer reads text. */
export function instructionWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/([.,?!:;])/g, ' $1 ')
    .split(/\s+/)
    .filter((w) => w.length > 0);
}

/**
 * Reads an instruction about a Shapes scene back into its task and slots by its cue words, so a
 * generated instruction in a phrasing no template has can still be checked against the scene:
 * "how many" / "count" / "number" ask a count (of a colour when one is named), a relation between
 * two named objects asks a spatial question, "where" a position, "size" / "big" a size, "shape"
 * with a lone colour a shape, "color" with a lone shape a colour, "there" / "see" / "contain"
 * with one named object its existence, "describe" / "caption" a caption or a description.
 * Undefined when the cues do not pick exactly one reading.
 */
export function parseInstruction(text: string): ParsedInstruction | undefined {
  const words = instructionWords(text);
  const has = (...cues: string[]) => cues.some((c) => words.includes(c));
  const objects: string[] = [];
  const colors: string[] = [];
  const shapes: string[] = [];
  words.forEach((w, i) => {
    if (COLOR_WORDS.has(w) && SHAPE_WORDS.has(words[i + 1] ?? '')) objects.push(`${w} ${words[i + 1]}`);
    else if (COLOR_WORDS.has(w)) colors.push(w);
    else if (SHAPE_WORDS.has(w) && !COLOR_WORDS.has(words[i - 1] ?? '')) shapes.push(w);
  });
  const joined = ` ${words.join(' ')} `;
  const relations = RELATIONS.filter((r) => joined.includes(` ${r} `));
  const only = (n: number, m: number, k: number) => objects.length === n && colors.length === m && shapes.length === k;

  if (has('many', 'count', 'number')) {
    if (only(0, 0, 0)) return { task: 'count', slots: {} };
    if (only(0, 1, 0)) return { task: 'color-count', slots: { color: colors[0]! } };
    return undefined;
  }
  if (only(2, 0, 0) && relations.length === 1) return { task: 'spatial', slots: { a: objects[0]!, relation: relations[0]!, b: objects[1]! } };
  if (relations.length > 0) return undefined;
  if (only(1, 0, 0) && has('where', 'position', 'part', 'corner')) return { task: 'position', slots: { object: objects[0]! } };
  if (only(1, 0, 0) && has('size', 'big', 'large', 'small')) return { task: 'size', slots: { object: objects[0]! } };
  if (only(0, 1, 0) && has('shape')) return { task: 'shape', slots: { color: colors[0]! } };
  if (only(0, 0, 1) && has('color', 'colour')) return { task: 'color', slots: { shape: shapes[0]! } };
  if (only(1, 0, 0) && has('there', 'contain', 'see', 'present', 'show', 'visible')) return { task: 'existence', slots: { object: objects[0]! } };
  if (only(0, 0, 0) && has('detail', 'detailed', 'every', 'everything')) return { task: 'detail', slots: {} };
  if (only(0, 0, 0) && has('describe', 'caption', 'description', 'shown', 'summarize', 'see')) return { task: 'caption', slots: {} };
  return undefined;
}

/** Why a parsed instruction has no answer in a scene (its object is absent, or not the only one of its kind). */
export class Unanswerable {
  constructor(readonly reason: string) {}
}

/**
 * The answer the scene's annotations give to a parsed instruction, or Unanswerable when the
 * instruction's referent is absent or ambiguous ("the circle" in a scene with two circles).
 */
export function sceneAnswer(scene: Scene, parsed: ParsedInstruction): string | Unanswerable {
  const { slots } = parsed;
  const withCategory = (c: string) => scene.objects.filter((o) => categoryOf(o) === c);
  const one = <T>(items: T[], what: string): T | Unanswerable => (items.length === 1 ? items[0]! : new Unanswerable(`${items.length === 0 ? 'no' : 'more than one'} ${what} in the scene`));
  switch (parsed.task) {
    case 'existence':
      return withCategory(slots.object!).length > 0 ? 'yes' : 'no';
    case 'count':
      return NUMBER_WORDS[scene.objects.length]!;
    case 'color-count':
      return NUMBER_WORDS[scene.objects.filter((o) => o.color === slots.color).length]!;
    case 'color': {
      const o = one(scene.objects.filter((x) => x.shape === slots.shape), slots.shape!);
      return o instanceof Unanswerable ? o : o.color;
    }
    case 'shape': {
      const o = one(scene.objects.filter((x) => x.color === slots.color), `${slots.color} object`);
      return o instanceof Unanswerable ? o : o.shape;
    }
    case 'size':
    case 'position': {
      const o = one(withCategory(slots.object!), slots.object!);
      if (o instanceof Unanswerable) return o;
      return parsed.task === 'size' ? o.size : o.cell;
    }
    case 'spatial': {
      const a = one(withCategory(slots.a!), slots.a!);
      const b = one(withCategory(slots.b!), slots.b!);
      if (a instanceof Unanswerable) return a;
      if (b instanceof Unanswerable) return b;
      if (a === b) return new Unanswerable('an object related to itself');
      return holds(a, slots.relation as Relation, b) ? 'yes' : 'no';
    }
    case 'caption':
      return caption(scene);
    case 'detail':
      return detailedDescription(scene);
  }
}
