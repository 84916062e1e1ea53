import type { Rng } from '@mllm/core';
import { CELLS, COLORS, SHAPES } from './scene';
import type { Scene, SceneObject } from './scene';
import { NUMBER_WORDS, holds } from './language';
import { ANSWER_MARKER } from './chain-of-thought';
import type { ReasoningQuestion, ReasoningSubject } from './chain-of-thought';
import { chainSteps, counts } from './reasoning-chains';
import type { ChainOptions } from './reasoning-chains';

/**
 * Counterfactual chains: a chain whose description of one or two cells differs from the image,
 * with every later step, and the answer, following the description. Taught on the true chains
 * alone, a small model writes a step like "..., not red" from its own look at the image rather
 * than from the object it has just named, since both usually agree; here they disagree, so the
 * steps after a description can only be learnt from the text. The altered words carry no loss
 * (`untrainedWords`): the model is never taught to describe what the image does not show.
 *
 * What changes: for a filtered count, one object's colour or shape, so that it matches the
 * filter where it did not, or no longer matches; for a spatial question, a named object trades
 * cells with another object; for a colour question, the asked object's colour. A plain count
 * ("how many objects") has nothing to alter: its steps never compare an object with the question.
 */

export interface CounterfactualChain {
  /** The whole chain, ending "so the answer is X .", X following the altered description. */
  reply: string;
  /** Indices of the reply's words (split at spaces) that describe the altered cells: no loss on them. */
  untrainedWords: number[];
  /** The answer the altered description implies. */
  answer: string;
}

/** Where a counterfactual chain can be written: chains that describe every cell before anything reads them. */
export function takesCounterfactuals(options: ChainOptions): boolean {
  return options.length === 'fixed' && (options.carry === 'listed' || options.carry === 'described');
}

/** `q`'s chain written about `scene` altered in one place, or undefined where the question has nothing to alter. */
export function counterfactualChain(scene: Scene, q: ReasoningQuestion, options: ChainOptions, rng: Rng): CounterfactualChain | undefined {
  if (!takesCounterfactuals(options)) throw new Error(`counterfactual chains need every cell described first: length "fixed" and carry "listed" or "described", got length "${options.length}", carry "${options.carry ?? 'listed'}"`);
  const altered = alter(scene, q.about, rng);
  if (!altered) return undefined;
  const trueSteps = chainSteps(scene, q, options);
  const steps = chainSteps(altered.scene, { ...q, about: altered.about, answer: altered.answer }, options);
  const untrainedWords: number[] = [];
  let offset = 0;
  steps.forEach((step, i) => {
    const words = step.split(' ');
    // the first CELLS.length steps describe the cells; a description ends at its first ',' or '.'
    if (i < CELLS.length) {
      const before = trueSteps[i]!.split(' ');
      const end = words.findIndex((w) => w === ',' || w === '.');
      for (let k = 0; k < end; k++) if (words[k] !== before[k]) untrainedWords.push(offset + k);
    }
    offset += words.length;
  });
  return { reply: [...steps, `${ANSWER_MARKER} ${altered.answer} .`].join(' '), untrainedWords, answer: altered.answer };
}

/** The scene as the altered description has it, what the question is then about, and its answer there. */
function alter(scene: Scene, about: ReasoningSubject, rng: Rng): { scene: Scene; about: ReasoningSubject; answer: string } | undefined {
  const swap = (from: SceneObject, to: SceneObject): SceneObject[] => scene.objects.map((o) => (o === from ? to : o));
  if (about.type === 'count') {
    const f = about.filter;
    if (!f) return undefined;
    const o = rng.pick(scene.objects);
    const changed: SceneObject =
      'color' in f
        ? { ...o, color: o.color === f.color ? rng.pick(COLORS.filter((c) => c !== f.color)) : f.color }
        : { ...o, shape: o.shape === f.shape ? rng.pick(SHAPES.filter((s) => s !== f.shape)) : f.shape };
    const objects = swap(o, changed);
    return { scene: { ...scene, objects }, about, answer: NUMBER_WORDS[objects.filter((x) => counts(x, about)).length]! };
  }
  if (about.type === 'color') {
    const changed: SceneObject = { ...about.object, color: rng.pick(COLORS.filter((c) => c !== about.object.color)) };
    return { scene: { ...scene, objects: swap(about.object, changed) }, about: { type: 'color', object: changed }, answer: changed.color };
  }
  // a named object trades cells with another object (the other named one, or any other)
  const moved = rng.pick([about.a, about.b]);
  const other = rng.pick(scene.objects.filter((o) => o !== moved));
  const relocated = new Map<SceneObject, SceneObject>([
    [moved, { ...moved, cell: other.cell }],
    [other, { ...other, cell: moved.cell }],
  ]);
  const now = (o: SceneObject) => relocated.get(o) ?? o;
  const objects = scene.objects.map(now).sort((x, y) => CELLS.indexOf(x.cell) - CELLS.indexOf(y.cell));
  const [a, b] = [now(about.a), now(about.b)];
  return { scene: { ...scene, objects }, about: { ...about, a, b }, answer: holds(a, about.relation, b) ? 'yes' : 'no' };
}
