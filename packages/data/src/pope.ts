import type { Rng } from '@mllm/core';
import { ALL_CATEGORIES, sceneCategories } from './scene';
import type { ObjectCategory, Scene } from './scene';
import { existenceQuestion } from './closed-set';

/** Image-level category statistics of a scene set (usually the training split). */
export interface CategoryStats {
  /** Number of scenes. */
  scenes: number;
  /** Number of scenes that contain each category. */
  frequency: Record<ObjectCategory, number>;
  /** cooccurrence[a][b]: number of scenes containing both a and b (a !== b; the diagonal is 0). */
  cooccurrence: Record<ObjectCategory, Record<ObjectCategory, number>>;
}

function zeros(): Record<ObjectCategory, number> {
  return Object.fromEntries(ALL_CATEGORIES.map((c) => [c, 0])) as Record<ObjectCategory, number>;
}

export function categoryStats(scenes: readonly Scene[]): CategoryStats {
  const frequency = zeros();
  const cooccurrence = Object.fromEntries(ALL_CATEGORIES.map((c) => [c, zeros()])) as CategoryStats['cooccurrence'];
  for (const scene of scenes) {
    const cats = sceneCategories(scene);
    for (const a of cats) {
      frequency[a]++;
      for (const b of cats) if (a !== b) cooccurrence[a][b]++;
    }
  }
  return { scenes: scenes.length, frequency, cooccurrence };
}

/** POPE's three negative samplings; @mllm/eval's PopeSampling and POPE_SAMPLINGS are the public names. */
export type PopeSampling = 'random' | 'popular' | 'adversarial';

export interface PopeQuestion {
  sceneId: string;
  category: ObjectCategory;
  label: 'yes' | 'no';
  /** "is there a red circle in the image ?" */
  question: string;
}

export interface PopeOptions {
  sampling: PopeSampling;
  /** Questions per image, half "yes" and half "no". Default 6 (POPE uses 6: 3 + 3). */
  perImage?: number;
  rng: Rng;
  /** Statistics of the training scenes; required for "popular" and "adversarial". */
  stats?: CategoryStats;
}

/** Sorts by score descending; ties keep ALL_CATEGORIES order, so rankings are deterministic. */
function topBy(candidates: ObjectCategory[], score: (c: ObjectCategory) => number, n: number): ObjectCategory[] {
  const order = new Map(ALL_CATEGORIES.map((c, i) => [c, i]));
  return [...candidates].sort((a, b) => score(b) - score(a) || order.get(a)! - order.get(b)!).slice(0, n);
}

/**
 * POPE (Li et al. 2023, "Evaluating Object Hallucination in Large Vision-Language Models"):
 * per image, ground-truth categories are the "yes" questions and an equal number of absent
 * categories the "no" questions. Negatives are sampled
 * - random: uniformly among absent categories;
 * - popular: the absent categories most frequent in the training scenes (stats.frequency);
 * - adversarial: the absent categories that co-occur most with the image's present ones
 *   (sum of stats.cooccurrence over present categories).
 * If an image has fewer than perImage / 2 categories, all are used and as many negatives,
 * so yes/no stays balanced. Questions alternate yes, no.
 */
export function popeQuestions(scenes: readonly Scene[], options: PopeOptions): PopeQuestion[] {
  const { sampling, rng, stats } = options;
  const perImage = options.perImage ?? 6;
  if (!Number.isInteger(perImage) || perImage < 2 || perImage % 2 !== 0) {
    throw new Error(`popeQuestions: perImage must be an even integer >= 2 (half yes, half no), got ${perImage}`);
  }
  if (sampling !== 'random' && !stats) {
    throw new Error(`popeQuestions: "${sampling}" sampling needs options.stats; pass categoryStats(trainScenes)`);
  }
  const out: PopeQuestion[] = [];
  for (const scene of scenes) {
    const present = sceneCategories(scene);
    const positives = rng.shuffle(present).slice(0, perImage / 2);
    const absent = ALL_CATEGORIES.filter((c) => !present.includes(c));
    const n = positives.length;
    let negatives: ObjectCategory[];
    if (sampling === 'random') negatives = rng.shuffle(absent).slice(0, n);
    else if (sampling === 'popular') negatives = topBy(absent, (c) => stats!.frequency[c], n);
    else negatives = topBy(absent, (c) => present.reduce((s, p) => s + stats!.cooccurrence[p][c], 0), n);
    for (let i = 0; i < n; i++) {
      for (const [category, label] of [[positives[i]!, 'yes'], [negatives[i]!, 'no']] as const) {
        out.push({ sceneId: scene.id, category, label, question: existenceQuestion(category) });
      }
    }
  }
  return out;
}
