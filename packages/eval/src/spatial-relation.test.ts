import { describe, expect, it } from 'vitest';
import { cellRelationHolds } from './spatial-relation';

describe('cellRelationHolds', () => {
  it('follows columns for left / right and rows for above / below, hand-worked', () => {
    expect(cellRelationHolds('top left', 'left of', 'bottom right')).toBe(true);
    expect(cellRelationHolds('top left', 'left of', 'bottom left')).toBe(false); // same column
    expect(cellRelationHolds('bottom right', 'right of', 'top left')).toBe(true);
    expect(cellRelationHolds('top right', 'above', 'bottom right')).toBe(true);
    expect(cellRelationHolds('top right', 'above', 'top left')).toBe(false); // same row
    expect(cellRelationHolds('bottom left', 'below', 'top right')).toBe(true);
    expect(cellRelationHolds(undefined, 'below', 'top right')).toBe(false);
  });
});
