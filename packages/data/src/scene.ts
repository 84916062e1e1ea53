/**
 * The Shapes world's ground truth. Images are WORLD_SIZE x WORLD_SIZE pixels split into a
 * 2 x 2 grid of cells; each object sits in its own cell, so every spatial relation
 * between two objects is exact.
 */
export const SHAPES = ['circle', 'square', 'triangle', 'cross'] as const;
export const COLORS = ['red', 'green', 'blue', 'yellow'] as const;
export const SIZES = ['small', 'large'] as const;
export const CELLS = ['top left', 'top right', 'bottom left', 'bottom right'] as const;

export type Shape = (typeof SHAPES)[number];
export type Color = (typeof COLORS)[number];
export type Size = (typeof SIZES)[number];
export type Cell = (typeof CELLS)[number];

export interface SceneObject {
  shape: Shape;
  color: Color;
  size: Size;
  cell: Cell;
  /** Centre in pixels (x to the right, y down), jittered inside the cell. */
  x: number;
  y: number;
  /** Scale of the colour's RGB, as lighting would vary it (absent: 1). Not part of the ground truth. */
  brightness?: number;
}

export interface Scene {
  /** Stable id, unique within a world. */
  id: string;
  /** 1-4 objects, at most one per cell, in CELLS order. */
  objects: SceneObject[];
}

/** An object category as POPE and CHAIR count it: colour + shape, e.g. "red circle". */
export type ObjectCategory = `${Color} ${Shape}`;

export function categoryOf(o: Pick<SceneObject, 'color' | 'shape'>): ObjectCategory {
  return `${o.color} ${o.shape}`;
}

export const ALL_CATEGORIES: readonly ObjectCategory[] = COLORS.flatMap((c) => SHAPES.map((s) => `${c} ${s}` as ObjectCategory));

/** Side of the world's coordinate frame in pixels; scene coordinates (x, y) live in it. */
export const WORLD_SIZE = 32;
/** Side of one grid cell in world pixels (the grid is 2 x 2). */
export const CELL_SIZE = WORLD_SIZE / 2;

/**
 * Side G of the square patch grid of `numTokens` encoder tokens, which the world's 2 x 2 cells
 * split into quarters: what a per-cell head (regions, cells, a region detector) needs. `what`
 * names the head in the error for a grid that does not split.
 */
export function cellTokenGrid(numTokens: number, what: string): number {
  const grid = Math.round(Math.sqrt(numTokens));
  if (grid * grid !== numTokens || grid % 2 !== 0)
    throw new Error(`${what} needs a square patch grid with an even side (2 x 2 cells), got ${numTokens} tokens; use an encoder whose imageSize / patchSize is even and that returns no CLS token`);
  return grid;
}

/** Which column and row a cell is in: the basis of every spatial relation. */
export function cellPosition(cell: Cell): { column: 'left' | 'right'; row: 'top' | 'bottom' } {
  const [row, column] = cell.split(' ') as ['top' | 'bottom', 'left' | 'right'];
  return { column, row };
}

/** Unique object categories of a scene, in the order they first appear. */
export function sceneCategories(scene: Scene): ObjectCategory[] {
  return [...new Set(scene.objects.map(categoryOf))];
}

/**
 * Canonical signature of a scene's content: cell, size, colour and shape of every object,
 * ignoring the id and the position jitter. Two scenes with the same signature describe the
 * same ground truth, so ShapesWorld keeps splits disjoint by signature.
 */
export function sceneSignature(scene: Scene): string {
  return scene.objects.map((o) => `${o.cell}:${o.size} ${o.color} ${o.shape}`).join('|');
}
