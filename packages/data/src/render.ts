import { WORLD_SIZE, CELL_SIZE } from './scene';
import type { Color, Scene, SceneObject, Size } from './scene';

/** Background grey level (all three channels). */
export const BACKGROUND = 0.1;

/** RGB of each colour, in [0, 1]. */
export const COLOR_RGB: Readonly<Record<Color, readonly [number, number, number]>> = {
  red: [1, 0, 0],
  green: [0, 1, 0],
  blue: [0, 0, 1],
  yellow: [1, 1, 0],
};

/** Side of an object's bounding box as a fraction of a cell (small 6 px, large 11.5 px at 32 px). */
export const SIZE_FRACTION: Readonly<Record<Size, number>> = { small: 0.38, large: 0.72 };

export interface RenderOptions {
  /** Output side in pixels; scene coordinates are scaled from WORLD_SIZE. Default 32. */
  imageSize?: number;
  /**
   * Object side as a fraction of SIZE_FRACTION's (default 1). The high-resolution world
   * renders a large canvas with small objects: at 0.4 on a 64 px canvas a small object is
   * 5 px wide, and 2.4 px once the image is downsampled to 32.
   */
  objectScale?: number;
}

/** Whether offset (dx, dy) from the centre lies inside the shape with half-side h. */
function inside(o: SceneObject, dx: number, dy: number, h: number): boolean {
  switch (o.shape) {
    case 'circle':
      return dx * dx + dy * dy <= h * h;
    case 'square':
      return Math.abs(dx) <= h && Math.abs(dy) <= h;
    case 'triangle':
      // Apex at the top (dy = -h), base at dy = +h spanning [-h, h].
      return dy >= -h && dy <= h && Math.abs(dx) <= (dy + h) / 2;
    case 'cross': {
      const t = h / 3; // half-thickness of each bar: bars are a third of the box wide
      return (Math.abs(dx) <= t && Math.abs(dy) <= h) || (Math.abs(dy) <= t && Math.abs(dx) <= h);
    }
  }
}

/**
 * Rasterises a scene: Float32Array of imageSize * imageSize * 3, HWC, values in [0, 1].
 * Each pixel is tested at its centre (no anti-aliasing), so output is deterministic and
 * every pixel is either background or exactly an object's colour.
 */
export function renderScene(scene: Scene, options: RenderOptions = {}): Float32Array {
  const size = options.imageSize ?? 32;
  const objectScale = options.objectScale ?? 1;
  if (!Number.isInteger(size) || size < 4) {
    throw new Error(`renderScene: imageSize must be an integer >= 4, got ${size}`);
  }
  if (!(objectScale > 0 && objectScale <= 1)) throw new Error(`renderScene: objectScale must be in (0, 1], got ${objectScale}`);
  const pixels = new Float32Array(size * size * 3).fill(BACKGROUND);
  const scale = WORLD_SIZE / size; // world pixels per image pixel
  for (const o of scene.objects) {
    const h = (SIZE_FRACTION[o.size] * objectScale * CELL_SIZE) / 2;
    const rgb = COLOR_RGB[o.color].map((v) => v * (o.brightness ?? 1));
    const lo = (v: number) => Math.max(0, Math.floor((v - h - 1) / scale));
    const hi = (v: number) => Math.min(size - 1, Math.ceil((v + h + 1) / scale));
    for (let py = lo(o.y); py <= hi(o.y); py++) {
      for (let px = lo(o.x); px <= hi(o.x); px++) {
        if (!inside(o, (px + 0.5) * scale - o.x, (py + 0.5) * scale - o.y, h)) continue;
        const i = (py * size + px) * 3;
        pixels[i] = rgb[0];
        pixels[i + 1] = rgb[1];
        pixels[i + 2] = rgb[2];
      }
    }
  }
  return pixels;
}
