import { MllmError } from '@mllm/core/errors';
import { Rng } from '@mllm/core/rng';
import { WORLD_SIZE, caption, closedSetQuestions, detailedDescription, generateScene, renderScene, type ClosedSetQuestion, type Scene } from '@mllm/data';

/** How a Shapes scene is drawn and rendered; the defaults are the default run's world. */
export interface SceneOptions {
  /** Seed of the scene's draw (default 0): the same seed gives the same scene. */
  seed?: number;
  /** Side of the image in pixels (default 32, the default run's encoder input). */
  size?: number;
  /** Number of objects, 1-4 (default: as the world draws it). */
  objects?: number;
  /** Object side as a fraction of the standard world's (default 1; a high-resolution run's `data.objectScale`). */
  objectScale?: number;
  /** Lowest object brightness (default 1; a run's `data.minBrightness`). */
  minBrightness?: number;
  /** Object centres on the image's pixel grid rather than the 32-px world grid (a run's `data.positionGrid: "image"`). */
  imagePositionGrid?: boolean;
}

/** The ground truth written next to a scene's PNG. */
export interface SceneGroundTruth {
  seed: number;
  /** Image side in pixels. */
  size: number;
  /** Each object: shape, colour, size, grid cell, and centre in image pixels (x right, y down). */
  objects: { shape: string; color: string; size: string; cell: string; x: number; y: number; brightness?: number }[];
  /** What a Shapes run is trained to answer to a caption prompt ("describe the image .") and to "describe the image in detail .". */
  caption: string;
  description: string;
  /** Questions the default run is trained on, asked about this scene, with their true answers. */
  questions: ClosedSetQuestion[];
}

export interface DrawnScene {
  scene: Scene;
  /** HWC RGB in [0, 1], size x size. */
  pixels: Float32Array;
  groundTruth: SceneGroundTruth;
}

const MAX_SIZE = 2048;
const MAX_OBJECTS = 4;
/** Draws tried for a requested object count: each count has probability 1/4, so 200 misses never happen in practice. */
const MAX_DRAWS = 200;

/**
 * A Shapes-world scene drawn and rendered as the world renders its training images, with its
 * ground truth and the questions of the data package's templates asked about it: something a new
 * user can chat about and check the answers of. Pure (no tfjs, no file system): `mllm scene`
 * encodes these pixels as its PNG, and the browser playground draws the same scene from the same seed.
 */
export function drawShapesScene(options: SceneOptions = {}): DrawnScene {
  const seed = options.seed ?? 0;
  const size = options.size ?? WORLD_SIZE;
  if (!Number.isInteger(seed)) throw new MllmError(`scene seed must be an integer, got ${seed}`);
  if (!(Number.isInteger(size) && size >= 4 && size <= MAX_SIZE)) throw new MllmError(`scene size must be a whole number of pixels in [4, ${MAX_SIZE}], got ${size}`);
  const wanted = options.objects;
  if (wanted !== undefined && !(Number.isInteger(wanted) && wanted >= 1 && wanted <= MAX_OBJECTS))
    throw new MllmError(`a Shapes scene holds 1 to ${MAX_OBJECTS} objects (one per grid cell), got ${wanted}`);
  const rng = new Rng(seed).fork('scene');
  const draw = () =>
    generateScene(rng, `scene-${seed}`, {
      positionStep: options.imagePositionGrid ? Math.min(1, WORLD_SIZE / size) : 1,
      minBrightness: options.minBrightness,
    });
  let scene = draw();
  for (let tries = 1; wanted !== undefined && scene.objects.length !== wanted; tries++) {
    if (tries >= MAX_DRAWS) throw new MllmError(`no scene with ${wanted} objects in ${MAX_DRAWS} draws of seed ${seed}; try another --seed`);
    scene = draw();
  }
  const pixels = renderScene(scene, { imageSize: size, objectScale: options.objectScale });
  const scale = size / WORLD_SIZE;
  const groundTruth: SceneGroundTruth = {
    seed,
    size,
    objects: scene.objects.map((o) => ({ shape: o.shape, color: o.color, size: o.size, cell: o.cell, x: o.x * scale, y: o.y * scale, ...(o.brightness !== undefined && { brightness: o.brightness }) })),
    caption: caption(scene),
    description: detailedDescription(scene),
    questions: closedSetQuestions(scene, rng.fork('questions')),
  };
  return { scene, pixels, groundTruth };
}

