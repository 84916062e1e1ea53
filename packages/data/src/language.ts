import { COLORS, SHAPES, cellPosition, categoryOf } from './scene';
import type { Color, ObjectCategory, Scene, SceneObject, Shape } from './scene';

/**
 * Text about scenes. All text is lower case with words and the punctuation tokens
 * "." "," "?" separated by single spaces, so a word tokenizer splits it exactly.
 */

export const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four'] as const;

export type Relation = 'left of' | 'right of' | 'above' | 'below';
export const RELATIONS: readonly Relation[] = ['left of', 'right of', 'above', 'below'];

/**
 * The exact spatial rule: relations are defined by cell column and row only.
 * "a left of b" iff a is in the left column and b in the right column; "a above b" iff a is
 * in the top row and b in the bottom row. Objects in the same column are neither left nor
 * right of each other; objects in the same row are neither above nor below each other.
 */
export function holds(a: SceneObject, relation: Relation, b: SceneObject): boolean {
  const pa = cellPosition(a.cell);
  const pb = cellPosition(b.cell);
  switch (relation) {
    case 'left of':
      return pa.column === 'left' && pb.column === 'right';
    case 'right of':
      return pa.column === 'right' && pb.column === 'left';
    case 'above':
      return pa.row === 'top' && pb.row === 'bottom';
    case 'below':
      return pa.row === 'bottom' && pb.row === 'top';
  }
}

/** "a large red circle" */
export function describeObject(o: SceneObject): string {
  return `a ${o.size} ${o.color} ${o.shape}`;
}

/** Short caption naming every object in CELLS order: "a large red circle at the top left and ... ." */
export function caption(scene: Scene): string {
  return `${scene.objects.map((o) => `${describeObject(o)} at the ${o.cell}`).join(' and ')} .`;
}

function countSentence(n: number): string {
  return n === 1 ? 'there is one object in the image .' : `there are ${NUMBER_WORDS[n]} objects in the image .`;
}

/**
 * Detailed description: a count sentence, one sentence per object (size, colour, shape,
 * position), and one spatial relation sentence between the first two objects (horizontal
 * when their columns differ, else vertical). A single object gets "it is the only object ."
 */
export function detailedDescription(scene: Scene): string {
  const objs = scene.objects;
  const sentences = [countSentence(objs.length)];
  for (const o of objs) sentences.push(`${describeObject(o)} is at the ${o.cell} .`);
  if (objs.length < 2) {
    sentences.push('it is the only object .');
  } else {
    const [a, b] = [objs[0]!, objs[1]!];
    const relation = RELATIONS.find((r) => holds(a, r, b))!;
    sentences.push(`the ${a.size} ${a.color} ${a.shape} is ${relation} the ${b.size} ${b.color} ${b.shape} .`);
  }
  return sentences.join(' ');
}

const COLOR_SET: ReadonlySet<string> = new Set(COLORS);
const SHAPE_SET: ReadonlySet<string> = new Set(SHAPES);

/**
 * Every "<colour> <shape>" mention (adjacent words) in text, in order, repeats included.
 * Canonical order is "size colour shape", so "a large red circle" yields "red circle".
 * Used by CHAIR to find the objects a caption claims.
 */
export function parseMentions(text: string): ObjectCategory[] {
  const words = text.toLowerCase().split(/[\s.,?!:;]+/).filter((w) => w.length > 0);
  const out: ObjectCategory[] = [];
  for (let i = 0; i + 1 < words.length; i++) {
    if (COLOR_SET.has(words[i]!) && SHAPE_SET.has(words[i + 1]!)) {
      out.push(categoryOf({ color: words[i] as Color, shape: words[i + 1] as Shape }));
    }
  }
  return out;
}
