import { Rng } from '@mllm/core';
import { ALL_CATEGORIES, CELLS, COLORS, SHAPES, sceneSignature } from './scene';
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
  private readonly splits: Record<Split, Scene[]>;
  private readonly byId = new Map<string, Scene>();
  private readonly images = new Map<string, Float32Array>();
  private cachedStats?: CategoryStats;

  constructor(options: ShapesWorldOptions) {
    this.seed = options.seed;
    this.imageSize = options.imageSize ?? 32;
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
      const scene = generateScene(rng, '');
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
      img = renderScene(this.scene(sceneId), { imageSize: this.imageSize });
      this.images.set(sceneId, img);
    }
    return img;
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
