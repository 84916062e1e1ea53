import { Rng } from '@mllm/core';
import { ALL_CATEGORIES, CELLS, COLORS, SHAPES, WORLD_SIZE, sceneSignature } from './scene';
import type { Scene } from './scene';
import { generateScene } from './generate-scene';
import { renderScene } from './render';
import { NUMBER_WORDS, RELATIONS, caption, detailedDescription } from './language';
import { COUNT_QUESTION, closedSetQuestions, existenceQuestion } from './closed-set';
import { categoryStats } from './pope';
import type { CategoryStats } from './pope';
import { CAPTION_PROMPTS, DETAIL_PROMPT, captionSample, instructSamples } from './llava';
import type { LlavaSample } from './llava';

export type Split = 'train' | 'val' | 'test';
export const SPLITS: readonly Split[] = ['train', 'val', 'test'];

export interface ShapesWorldOptions {
  seed: number;
  /** Rendered image side in pixels. Default 32. */
  imageSize?: number;
  /** Object side as a fraction of the standard world's (default 1); see RenderOptions.objectScale. */
  objectScale?: number;
  /**
   * Where jittered object centres may land: on the 32-px world grid (default, the standard
   * world's draws) or on the rendered image's pixel grid, so that on a large canvas objects
   * take every sub-pixel phase of a downsampled view.
   */
  positionGrid?: 'world' | 'image';
  /** Lowest object colour brightness (default 1); see SceneGenerateOptions.minBrightness. */
  minBrightness?: number;
  /** Number of scenes per split. */
  sizes: Record<Split, number>;
}

/**
 * The synthetic Shapes world: unique scenes split into train / val / test with no scene
 * signature shared between splits, lazily rendered images, and training statistics.
 * Scenes are drawn from Rng(seed).fork('scenes'), deduplicated by sceneSignature, then
 * shuffled with Rng(seed).fork('split') and cut into splits, so all splits share one
 * distribution.
 */
export class ShapesWorld {
  readonly seed: number;
  readonly imageSize: number;
  readonly objectScale: number;
  private readonly splits: Record<Split, Scene[]>;
  private readonly byId = new Map<string, Scene>();
  private readonly images = new Map<string, Float32Array>();
  private cachedStats?: CategoryStats;

  constructor(options: ShapesWorldOptions) {
    this.seed = options.seed;
    this.imageSize = options.imageSize ?? 32;
    this.objectScale = options.objectScale ?? 1;
    if (!(this.objectScale > 0 && this.objectScale <= 1)) throw new Error(`ShapesWorld: objectScale must be in (0, 1], got ${this.objectScale}`);
    const positionStep = options.positionGrid === 'image' ? Math.min(1, WORLD_SIZE / this.imageSize) : 1;
    for (const split of SPLITS) {
      const n = options.sizes[split];
      if (!Number.isInteger(n) || n < 0) throw new Error(`ShapesWorld: sizes.${split} must be an integer >= 0, got ${n}`);
    }
    const total = SPLITS.reduce((s, k) => s + options.sizes[k], 0);
    const root = new Rng(options.seed);
    const rng = root.fork('scenes');
    const seen = new Set<string>();
    const unique: Scene[] = [];
    // About 1.2 million distinct scenes exist; a long run of duplicates means we are near that.
    const maxDuplicateRun = 100_000;
    for (let run = 0; unique.length < total; run++) {
      if (run >= maxDuplicateRun) {
        throw new Error(`ShapesWorld: found only ${unique.length} distinct scenes of ${total} requested; ask for fewer scenes`);
      }
      const scene = generateScene(rng, '', { positionStep, minBrightness: options.minBrightness });
      const sig = sceneSignature(scene);
      if (seen.has(sig)) continue;
      run = -1;
      seen.add(sig);
      unique.push(scene);
    }
    const order = root.fork('split').shuffle(unique);
    let offset = 0;
    this.splits = { train: [], val: [], test: [] };
    for (const split of SPLITS) {
      this.splits[split] = order.slice(offset, offset + options.sizes[split]).map((s, i) => ({ ...s, id: `${split}-${i}` }));
      offset += options.sizes[split];
      for (const s of this.splits[split]) this.byId.set(s.id, s);
    }
  }

  scenes(split: Split): readonly Scene[] {
    const scenes = this.splits[split];
    if (!scenes) throw new Error(`ShapesWorld: unknown split "${split}"; use one of ${SPLITS.join(', ')}`);
    return scenes;
  }

  scene(sceneId: string): Scene {
    const scene = this.byId.get(sceneId);
    if (!scene) throw new Error(`ShapesWorld: no scene "${sceneId}"; ids look like "train-0", "val-3", "test-12"`);
    return scene;
  }

  /** The rendered image (HWC RGB in [0, 1]); rendered on first use, then cached. */
  image(sceneId: string): Float32Array {
    let img = this.images.get(sceneId);
    if (!img) {
      img = this.render(this.scene(sceneId));
      this.images.set(sceneId, img);
    }
    return img;
  }

  /** Renders any scene (e.g. a generated near-miss twin) as this world renders its own. */
  render(scene: Scene): Float32Array {
    return renderScene(scene, { imageSize: this.imageSize, objectScale: this.objectScale });
  }

  /** Category frequency and co-occurrence of the train split (for POPE sampling). */
  get stats(): CategoryStats {
    this.cachedStats ??= categoryStats(this.splits.train);
    return this.cachedStats;
  }

  captionSamples(split: Split): LlavaSample[] {
    return this.scenes(split).map(captionSample);
  }

  /** Instruction samples of a split, drawn from Rng(seed).fork('instruct:<split>'). */
  instructSamples(split: Split): LlavaSample[] {
    const rng = new Rng(this.seed).fork(`instruct:${split}`);
    return this.scenes(split).flatMap((s) => instructSamples(s, rng));
  }

  /**
   * All text the world can produce, deduplicated: captions, detailed descriptions, questions
   * and answers of the train split, every prompt template, and every question form over all
   * categories, shapes, relations and number words (so a tokenizer trained on it covers the
   * whole language, including POPE questions about categories absent from train).
   */
  corpus(): string[] {
    const text = new Set<string>([...CAPTION_PROMPTS, DETAIL_PROMPT, COUNT_QUESTION, 'yes', 'no', 'it is the only object .']);
    for (const c of ALL_CATEGORIES) text.add(existenceQuestion(c));
    for (const s of SHAPES) text.add(`what color is the ${s} ?`);
    for (const c of [...COLORS, ...NUMBER_WORDS]) text.add(c);
    for (const cell of CELLS) text.add(`at the ${cell}`);
    for (const r of RELATIONS) text.add(`is the ${ALL_CATEGORIES[0]} ${r} the ${ALL_CATEGORIES[1]} ?`);
    text.add('a small large');
    text.add(`there is ${NUMBER_WORDS[1]} object in the image . there are objects`);
    const rng = new Rng(this.seed).fork('corpus');
    for (const scene of this.splits.train) {
      text.add(caption(scene));
      text.add(detailedDescription(scene));
      for (const q of closedSetQuestions(scene, rng)) {
        text.add(q.question);
        text.add(q.answer);
      }
    }
    return [...text];
  }
}
