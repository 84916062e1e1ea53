import { writeFile } from 'node:fs/promises';
import { MllmError } from '@mllm/core';
import { imageToPngBuffer, type Scene } from '@mllm/data';
import { readRunConfig } from './open-run';
import { createWorld } from './session';
import { drawShapesScene, type SceneGroundTruth, type SceneOptions } from './shapes-scene-draw';

export type { SceneGroundTruth, SceneOptions } from './shapes-scene-draw';

export interface RenderedScene {
  scene: Scene;
  png: Buffer;
  groundTruth: SceneGroundTruth;
}

/** drawShapesScene's scene with its pixels encoded as a PNG (what `mllm scene` writes). */
export async function renderShapesScene(options: SceneOptions = {}): Promise<RenderedScene> {
  const { scene, pixels, groundTruth } = drawShapesScene(options);
  return { scene, png: await imageToPngBuffer(pixels, groundTruth.size), groundTruth };
}

/** The scene options that render as the run in `dir` saw its images: its image size and data settings. */
export async function sceneOptionsOfRun(dir: string): Promise<Pick<SceneOptions, 'size' | 'objectScale' | 'minBrightness' | 'imagePositionGrid'>> {
  const { config } = await readRunConfig(dir);
  const world = createWorld(config);
  return { size: world.imageSize, objectScale: world.objectScale, minBrightness: config.data.minBrightness, imagePositionGrid: config.data.positionGrid === 'image' };
}

/** Writes `out` (the PNG) and its ground truth beside it (`scene.png` -> `scene.json`). */
export async function writeShapesScene(out: string, options: SceneOptions = {}): Promise<RenderedScene & { pngPath: string; jsonPath: string }> {
  if (!/\.png$/i.test(out)) throw new MllmError(`the scene is written as PNG; name the file *.png, got ${out}`);
  const rendered = await renderShapesScene(options);
  const jsonPath = out.replace(/\.png$/i, '.json');
  try {
    await writeFile(out, rendered.png);
    await writeFile(jsonPath, `${JSON.stringify(rendered.groundTruth, null, 2)}\n`);
  } catch (e) {
    throw new MllmError(`cannot write the scene to ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; does its folder exist?`);
  }
  return { ...rendered, pngPath: out, jsonPath };
}
