import type { Rng } from '@mllm/core';
import { CELLS, CELL_SIZE, COLORS, SHAPES, SIZES, cellPosition } from './scene';
import type { Cell, Color, Scene, SceneObject, Shape } from './scene';

/**
 * The world's category distribution is deliberately skewed and correlated, so POPE's
 * "popular" (frequent categories) and "adversarial" (co-occurring categories) negative
 * samplings differ from "random":
 * - colours have unequal base rates (COLOR_WEIGHTS);
 * - each colour prefers one shape (SHAPE_PREFERENCE);
 * - a scene has a dominant colour that each object takes with probability DOMINANT_COLOR_P,
 *   so categories of the same colour co-occur more than their base rates predict.
 */
export const COLOR_WEIGHTS: Readonly<Record<Color, number>> = { red: 0.35, blue: 0.3, green: 0.2, yellow: 0.15 };

/** P(shape | colour); every category keeps a non-zero probability. */
export const SHAPE_PREFERENCE: Readonly<Record<Color, Readonly<Record<Shape, number>>>> = {
  red: { circle: 0.55, square: 0.2, triangle: 0.15, cross: 0.1 },
  green: { triangle: 0.55, cross: 0.2, circle: 0.15, square: 0.1 },
  blue: { square: 0.55, circle: 0.2, cross: 0.15, triangle: 0.1 },
  yellow: { cross: 0.55, triangle: 0.2, square: 0.15, circle: 0.1 },
};

/** Probability that an object takes the scene's dominant colour instead of a fresh draw. */
export const DOMINANT_COLOR_P = 0.5;

/** Maximum centre offset from the cell centre, in world pixels, along each axis. */
export const JITTER = 2;

function weighted<T extends string>(rng: Rng, keys: readonly T[], weights: Readonly<Record<T, number>>): T {
  let total = 0;
  for (const k of keys) total += weights[k];
  let u = rng.next() * total;
  for (const k of keys) {
    u -= weights[k];
    if (u < 0) return k;
  }
  return keys[keys.length - 1]!;
}

/** Centre of a cell in world pixels. */
export function cellCentre(cell: Cell): { x: number; y: number } {
  const { column, row } = cellPosition(cell);
  return { x: (column === 'left' ? 0.5 : 1.5) * CELL_SIZE, y: (row === 'top' ? 0.5 : 1.5) * CELL_SIZE };
}

export interface SceneGenerateOptions {
  /**
   * Grid the jittered centres snap to, in world pixels (default 1). A high-resolution canvas
   * of S pixels passes WORLD_SIZE / S so that objects move in steps of one rendered pixel:
   * a downsampled view then sees them at every sub-pixel phase, as it would a real photo.
   */
  positionStep?: number;
  /**
   * Lowest colour brightness (default 1: every object at full colour). Below 1 each object's
   * RGB is scaled by a uniform draw in [minBrightness, 1], so how much colour a blurred small
   * object leaves in a downsampled view no longer tells its shape (a square covers twice a
   * triangle's pixels); its hue still names the colour.
   */
  minBrightness?: number;
}

/**
 * One random scene: 1-4 objects, at most one per cell, listed in CELLS order. Colour and
 * shape follow the skewed, correlated distribution above; size is uniform; the centre is
 * jittered by a multiple of `positionStep` in [-JITTER, JITTER] on each axis.
 */
export function generateScene(rng: Rng, id: string, options: SceneGenerateOptions = {}): Scene {
  const step = options.positionStep ?? 1;
  const steps = Math.round(JITTER / step);
  const minBrightness = options.minBrightness ?? 1;
  if (!(minBrightness > 0 && minBrightness <= 1)) throw new Error(`generateScene: minBrightness must be in (0, 1], got ${minBrightness}`);
  if (!(step > 0 && step <= JITTER && Math.abs(JITTER / step - steps) < 1e-9))
    throw new Error(`generateScene: positionStep must divide JITTER (${JITTER}) into whole steps, got ${step}`);
  const count = rng.range(1, CELLS.length);
  const chosen = new Set(rng.shuffle(CELLS).slice(0, count));
  const dominant = weighted(rng, COLORS, COLOR_WEIGHTS);
  const objects: SceneObject[] = [];
  for (const cell of CELLS) {
    if (!chosen.has(cell)) continue;
    const color = rng.next() < DOMINANT_COLOR_P ? dominant : weighted(rng, COLORS, COLOR_WEIGHTS);
    const shape = weighted(rng, SHAPES, SHAPE_PREFERENCE[color]);
    const size = rng.pick(SIZES);
    const centre = cellCentre(cell);
    objects.push({
      shape,
      color,
      size,
      cell,
      x: centre.x + rng.range(-steps, steps) * step,
      y: centre.y + rng.range(-steps, steps) * step,
      // drawn only when asked for, so the standard world keeps its exact draws
      ...(minBrightness < 1 && { brightness: minBrightness + (1 - minBrightness) * rng.next() }),
    });
  }
  return { id, objects };
}
