import type { Rng } from '@mllm/core';
import { ALL_CATEGORIES, categoryOf, sceneCategories } from './scene';
import type { ObjectCategory, Scene, SceneObject } from './scene';
import { NUMBER_WORDS, RELATIONS, holds } from './language';

export type ClosedSetType = 'existence' | 'color' | 'count' | 'spatial';

/** A question with one short canonical answer ("yes", "no", "red", "two"). */
export interface ClosedSetQuestion {
  type: ClosedSetType;
  question: string;
  answer: string;
}

/** Existence question, phrased exactly as POPE asks it. */
export function existenceQuestion(category: ObjectCategory): string {
  return `is there a ${category} in the image ?`;
}

export const COUNT_QUESTION = 'how many objects are there ?';

/**
 * Closed-set questions about a scene:
 * - existence: one present category ("yes") and one absent category ("no"), balanced;
 * - color: "what color is the <shape> ?" for every shape that appears exactly once;
 * - count: "how many objects are there ?" answered with a number word;
 * - spatial: when at least two objects have a category unique in the scene (so "the red
 *   circle" names one object), one true ("yes") and one false ("no") relation question,
 *   relations as defined by `holds` (cell column / row).
 */
export function closedSetQuestions(scene: Scene, rng: Rng): ClosedSetQuestion[] {
  const out: ClosedSetQuestion[] = [];
  const present = sceneCategories(scene);
  const absent = ALL_CATEGORIES.filter((c) => !present.includes(c));
  out.push({ type: 'existence', question: existenceQuestion(rng.pick(present)), answer: 'yes' });
  out.push({ type: 'existence', question: existenceQuestion(rng.pick(absent)), answer: 'no' });

  for (const o of scene.objects) {
    if (scene.objects.filter((p) => p.shape === o.shape).length === 1) {
      out.push({ type: 'color', question: `what color is the ${o.shape} ?`, answer: o.color });
    }
  }

  out.push({ type: 'count', question: COUNT_QUESTION, answer: NUMBER_WORDS[scene.objects.length]! });

  const named = scene.objects.filter((o) => scene.objects.filter((p) => categoryOf(p) === categoryOf(o)).length === 1);
  if (named.length >= 2) {
    const pair = (): [SceneObject, SceneObject] => {
      const [a, b] = rng.shuffle(named);
      return [a!, b!];
    };
    const ask = (a: SceneObject, rel: string, b: SceneObject) => `is the ${categoryOf(a)} ${rel} the ${categoryOf(b)} ?`;
    const [a1, b1] = pair();
    out.push({ type: 'spatial', question: ask(a1, rng.pick(RELATIONS.filter((r) => holds(a1, r, b1))), b1), answer: 'yes' });
    const [a2, b2] = pair();
    out.push({ type: 'spatial', question: ask(a2, rng.pick(RELATIONS.filter((r) => !holds(a2, r, b2))), b2), answer: 'no' });
  }
  return out;
}
