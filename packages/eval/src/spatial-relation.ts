/**
 * The Shapes world's spatial rule on cell names ("top left", ...), for text scorers that have
 * no @mllm/data dependency: "a left of b" iff a is in the left column and b in the right one,
 * "a above b" iff a is in the top row and b in the bottom one (the same rule as @mllm/data's `holds`).
 */
export const SPATIAL_RELATIONS = ['left of', 'right of', 'above', 'below'] as const;
export type SpatialRelation = (typeof SPATIAL_RELATIONS)[number];

const column = (cell?: string) => cell?.split(' ')[1];
const row = (cell?: string) => cell?.split(' ')[0];

/** Whether `relation` holds from cell `a` to cell `b` (false when either is unknown). */
export function cellRelationHolds(a: string | undefined, relation: SpatialRelation, b: string | undefined): boolean {
  switch (relation) {
    case 'left of':
      return column(a) === 'left' && column(b) === 'right';
    case 'right of':
      return column(a) === 'right' && column(b) === 'left';
    case 'above':
      return row(a) === 'top' && row(b) === 'bottom';
    case 'below':
      return row(a) === 'bottom' && row(b) === 'top';
  }
}
