import type { Scene } from './scene';
import { checkDescription } from './description-check';

/** The attributes of a Shapes-world object a text can get right or wrong, and the scene's object count. */
export const OBJECT_ATTRIBUTES = ['shape', 'color', 'size', 'position', 'count'] as const;
export type ObjectAttribute = (typeof OBJECT_ATTRIBUTES)[number];

/** Per attribute: how many of the text's chances to state it were right. */
export type AttributeTally = Record<ObjectAttribute, { correct: number; total: number }>;

/**
 * What a description or caption gets right about each object of its scene, attribute by
 * attribute, read with checkDescription's grammar. Claims are matched to objects by cell (each
 * cell holds at most one object), so one wrong word costs one attribute, not the whole object:
 * - shape, colour, size: per object, the claim at its cell states it correctly (no claim there,
 *   or a claim without a size, counts as wrong: the text lost it);
 * - position: per object whose colour + shape the text names with a cell, one such claim is at
 *   its cell (recognised objects only, so position is not charged for a missed object);
 * - count: per scene, the count sentence's number (else the number of object claims with a
 *   cell) is the number of objects.
 */
export function attributeCheck(scene: Scene, text: string): AttributeTally {
  const { objects: claims, count } = checkDescription(scene, text);
  const placed = claims.filter((c) => c.cell !== undefined);
  const tally = Object.fromEntries(OBJECT_ATTRIBUTES.map((a) => [a, { correct: 0, total: 0 }])) as AttributeTally;
  const score = (attribute: ObjectAttribute, right: boolean) => {
    tally[attribute].total++;
    if (right) tally[attribute].correct++;
  };
  for (const o of scene.objects) {
    const atCell = placed.find((c) => c.cell === o.cell);
    score('shape', atCell?.shape === o.shape);
    score('color', atCell?.color === o.color);
    score('size', atCell?.size === o.size);
    const named = placed.filter((c) => c.color === o.color && c.shape === o.shape);
    if (named.length > 0) score('position', named.some((c) => c.cell === o.cell));
  }
  score('count', (count?.stated ?? placed.length) === scene.objects.length);
  return tally;
}
