/**
 * CHAIR: Caption Hallucination Assessment with Image Relevance (Rohrbach et al. 2018,
 * arXiv:1809.02156). A mention is a colour + shape category in a caption; it is hallucinated
 * when the scene has no object of that category.
 *   CHAIR_i = hallucinated mentions / all mentions   (every mention counts, duplicates too)
 *   CHAIR_s = captions with >= 1 hallucination / all captions
 * CHAIR alone rewards saying nothing, so `coverage` reports the other side: the share of
 * ground-truth categories the captions mention.
 */
import { chairMentions, groundTruthCategories, SHAPES_VOCABULARY } from './mentions';
import type { GroundTruthScene, MentionVocabulary } from './mentions';
import { safeRatio } from './ratio';
import { attributeChair, type AttributeChairResult } from './attribute-chair';

export interface ChairItem {
  caption: string;
  scene: GroundTruthScene;
}

export interface ChairResult {
  /** Hallucinated mentions / all mentions (0 when there are no mentions). */
  chairI: number;
  /** Captions with at least one hallucinated mention / all captions. */
  chairS: number;
  /** Ground-truth categories mentioned / ground-truth categories, summed over captions. */
  coverage: number;
  captions: number;
  mentions: number;
  hallucinated: number;
  hallucinatedCaptions: number;
  /**
   * Attribute-level CHAIR (see attribute-chair.ts): per kind, the share of stated colours,
   * sizes and positions of objects that are there which are wrong. Absent in reports written
   * before it existed.
   */
  byAttribute?: AttributeChairResult['byAttribute'];
  /** Per kind, how many attributes were stated and how many of them were wrong. */
  attributes?: Pick<AttributeChairResult, 'stated' | 'wrong'>;
}

/** One caption's mentions against its scene. */
export interface CaptionCheck {
  mentions: string[];
  /** The hallucinated mentions, in order, duplicates kept. */
  hallucinated: string[];
  /** Distinct ground-truth categories the caption mentions. */
  covered: string[];
  /** Distinct ground-truth categories in the scene. */
  groundTruth: string[];
}

/**
 * Check one caption against its scene.
 *
 *   checkCaption('a red circle and a blue cross', scene with one red circle)
 *   // mentions ['red circle', 'blue cross'], hallucinated ['blue cross'], covered ['red circle']
 */
export function checkCaption(
  caption: string,
  scene: GroundTruthScene,
  vocabulary: MentionVocabulary = SHAPES_VOCABULARY,
): CaptionCheck {
  const truth = groundTruthCategories(scene);
  const mentions = chairMentions(caption, vocabulary);
  const mentioned = new Set(mentions);
  return {
    mentions,
    hallucinated: mentions.filter((m) => !truth.has(m)),
    covered: [...truth].filter((c) => mentioned.has(c)),
    groundTruth: [...truth],
  };
}

/** CHAIR_i, CHAIR_s and coverage over a set of captions. */
export function chair(items: readonly ChairItem[], vocabulary: MentionVocabulary = SHAPES_VOCABULARY): ChairResult {
  let mentions = 0;
  let hallucinated = 0;
  let hallucinatedCaptions = 0;
  let covered = 0;
  let groundTruth = 0;
  for (const { caption, scene } of items) {
    const check = checkCaption(caption, scene, vocabulary);
    mentions += check.mentions.length;
    hallucinated += check.hallucinated.length;
    if (check.hallucinated.length > 0) hallucinatedCaptions++;
    covered += check.covered.length;
    groundTruth += check.groundTruth.length;
  }
  const { byAttribute, stated, wrong } = attributeChair(items, vocabulary);
  return {
    chairI: safeRatio(hallucinated, mentions),
    chairS: safeRatio(hallucinatedCaptions, items.length),
    coverage: safeRatio(covered, groundTruth),
    captions: items.length,
    mentions,
    hallucinated,
    hallucinatedCaptions,
    byAttribute,
    attributes: { stated, wrong },
  };
}
