import { CELLS, COLORS, SHAPES, SIZES, type Cell, type Color, type Shape, type Size } from '@mllm/data';

/** One object the expert found: what it is and which cell of the 2 x 2 grid it sits in. */
export interface RegionDetection {
  cell: Cell;
  shape: Shape;
  color: Color;
  size: Size;
}

/** The text for an image in which the expert found nothing (the caption grammar has no zero-object sentence). */
export const NOTHING_FOUND = 'there are zero objects in the image .';

/**
 * The expert's text for one image: its detections in the Shapes world's caption grammar
 * ("a large red circle at the top left and a small blue square at the bottom right ."), in
 * CELLS order, so a text-only LLM reads it as the captions it was trained on. This is all the
 * LLM learns of the image: shape, colour, size and cell of each object found; not where in its
 * cell an object sits, its brightness, or how sure the expert was.
 */
export function renderExpertText(detections: readonly RegionDetection[]): string {
  if (detections.length === 0) return NOTHING_FOUND;
  const ordered = [...detections].sort((a, b) => CELLS.indexOf(a.cell) - CELLS.indexOf(b.cell));
  const cells = new Set(ordered.map((d) => d.cell));
  if (cells.size !== ordered.length) throw new Error(`renderExpertText: two detections in one cell (${ordered.map((d) => d.cell).join(', ')}); the expert finds at most one object per cell`);
  return `${ordered.map((d) => `a ${d.size} ${d.color} ${d.shape} at the ${d.cell}`).join(' and ')} .`;
}

/** Every word the expert can write, so a connector can check the tokenizer knows them all. */
export const EXPERT_WORDS: readonly string[] = [
  ...new Set([...NOTHING_FOUND.split(' '), 'a', 'at', 'the', 'and', '.', ...SIZES, ...COLORS, ...SHAPES, ...CELLS.flatMap((c) => c.split(' '))]),
];

/**
 * Word tokens of the longest text the expert writes: four objects, each "a <size> <colour>
 * <shape> at the <row> <column>", joined by three "and", then ".". Shorter texts are padded
 * to it, so every image takes the same number of positions.
 */
export const EXPERT_TEXT_TOKENS = CELLS.length * 8 + (CELLS.length - 1) + 1;
