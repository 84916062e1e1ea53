import type { Rng } from '@mllm/core';
import { CELLS, COLORS, SHAPES, SIZES, categoryOf } from './scene';
import type { Color, Scene, SceneObject, Shape } from './scene';
import { NUMBER_WORDS, RELATIONS, holds } from './language';
import type { Relation } from './language';

/**
 * Chain-of-thought answers in the Shapes world: the answer first lists the objects in the
 * image, then the ones the question is about, then "so the answer is X ." (the zero-shot
 * "let's think step by step" of Kojima et al. 2022, with chains written from the ground truth
 * as in Multimodal-CoT, Zhang et al. 2023). The same questions are also asked directly, so a
 * model can be evaluated with and without its reasoning chain.
 */

/** Appended to a question to ask for the chain. */
export const REASONING_PROMPT = 'think step by step .';
/** The words before the final answer in every chain; the evaluation parses what follows. */
export const ANSWER_MARKER = 'so the answer is';

export type ReasoningType = 'count' | 'color' | 'spatial';

/** A question with its short answer and the chain that reaches it. */
export interface ReasoningQuestion {
  type: ReasoningType;
  /** Asked directly, e.g. "how many red objects are there ?". */
  question: string;
  /** The short answer ("two", "red", "yes"). */
  answer: string;
  /** The full reasoning answer, ending "so the answer is <answer> ." */
  chain: string;
  /** What the question asks about, for chain builders that need more than the text. */
  about: ReasoningSubject;
}

/** The objects and relation a reasoning question names. */
export type ReasoningSubject =
  | { type: 'count'; filter?: { color: Color } | { shape: Shape } }
  | { type: 'color'; object: SceneObject }
  | { type: 'spatial'; a: SceneObject; relation: Relation; b: SceneObject };

export const PLURAL: Record<Shape, string> = { circle: 'circles', square: 'squares', triangle: 'triangles', cross: 'crosses' };

/** "the small red circle" */
function theObject(o: SceneObject): string {
  return `the ${o.size} ${o.color} ${o.shape}`;
}

/** The question with the step-by-step prompt: "how many objects are there ? think step by step ." */
export function withReasoningPrompt(question: string): string {
  return `${question} ${REASONING_PROMPT}`;
}

/** The first step of every chain: all objects with size, colour, shape and cell, in CELLS order. */
export function listObjects(scene: Scene): string {
  const items = scene.objects.map((o) => `a ${o.size} ${o.color} ${o.shape} at the ${o.cell}`);
  return items.length === 1 ? `the only object is ${items[0]} .` : `the objects are ${items.join(' , ')} .`;
}

function conclude(steps: string[], answer: string): string {
  return [...steps, `${ANSWER_MARKER} ${answer} .`].join(' ');
}

/** "the red ones are the small red circle and the large red square ." / "none of them is red ." */
function selection(label: { one: string; many: string; none: string }, matches: SceneObject[]): string {
  if (matches.length === 0) return `none of them is ${label.none} .`;
  const listed = matches.map(theObject).join(' and ');
  return matches.length === 1 ? `${label.one} is ${listed} .` : `${label.many} are ${listed} .`;
}

function countQuestion(scene: Scene, filter?: { color: Color } | { shape: Shape }): ReasoningQuestion {
  const steps = [listObjects(scene)];
  let question = 'how many objects are there ?';
  let matches = scene.objects;
  if (filter && 'color' in filter) {
    question = `how many ${filter.color} objects are there ?`;
    matches = scene.objects.filter((o) => o.color === filter.color);
    steps.push(selection({ one: `the ${filter.color} one`, many: `the ${filter.color} ones`, none: filter.color }, matches));
  } else if (filter) {
    question = `how many ${PLURAL[filter.shape]} are there ?`;
    matches = scene.objects.filter((o) => o.shape === filter.shape);
    steps.push(selection({ one: `the ${filter.shape}`, many: `the ${PLURAL[filter.shape]}`, none: `a ${filter.shape}` }, matches));
  }
  const answer = NUMBER_WORDS[matches.length]!;
  return { type: 'count', question, answer, chain: conclude(steps, answer), about: { type: 'count', ...(filter && { filter }) } };
}

function colorQuestion(scene: Scene, o: SceneObject): ReasoningQuestion {
  const steps = [listObjects(scene), `the ${o.shape} is ${theObject(o)} .`];
  return { type: 'color', question: `what color is the ${o.shape} ?`, answer: o.color, chain: conclude(steps, o.color), about: { type: 'color', object: o } };
}

function spatialQuestion(scene: Scene, a: SceneObject, relation: Relation, b: SceneObject, answer: 'yes' | 'no'): ReasoningQuestion {
  const steps = [listObjects(scene), `the ${categoryOf(a)} is at the ${a.cell} and the ${categoryOf(b)} is at the ${b.cell} .`];
  return { type: 'spatial', question: `is the ${categoryOf(a)} ${relation} the ${categoryOf(b)} ?`, answer, chain: conclude(steps, answer), about: { type: 'spatial', a, relation, b } };
}

/**
 * Reasoning questions about a scene:
 * - count: all objects, the objects of one colour and the objects of one shape (colour and
 *   shape drawn from all four, so "zero" answers occur);
 * - color: "what color is the <shape> ?" for every shape that appears exactly once;
 * - spatial: with two objects of unique category, one true and one false relation question
 *   (relations as `holds` defines them).
 */
export function reasoningQuestions(scene: Scene, rng: Rng): ReasoningQuestion[] {
  const out = [countQuestion(scene), countQuestion(scene, { color: rng.pick(COLORS) }), countQuestion(scene, { shape: rng.pick(SHAPES) })];
  for (const o of scene.objects) if (scene.objects.filter((p) => p.shape === o.shape).length === 1) out.push(colorQuestion(scene, o));
  const named = scene.objects.filter((o) => scene.objects.filter((p) => categoryOf(p) === categoryOf(o)).length === 1);
  if (named.length >= 2) {
    for (const answer of ['yes', 'no'] as const) {
      const [a, b] = rng.shuffle(named) as [SceneObject, SceneObject];
      const relations = RELATIONS.filter((r) => holds(a, r, b) === (answer === 'yes'));
      out.push(spatialQuestion(scene, a, rng.pick(relations), b, answer));
    }
  }
  return out;
}

/**
 * Text for the word tokenizer: every question form and chain phrase over all colours, shapes,
 * cells and number words, plus the questions and chains of `scenes` (so word frequencies, and
 * with them the ids, follow what training shows).
 */
export function reasoningCorpus(scenes: readonly Scene[], rng: Rng): string[] {
  const text = new Set<string>([REASONING_PROMPT, `${ANSWER_MARKER} ${NUMBER_WORDS.join(' ')} yes no .`, 'the only object is the objects are , and']);
  for (const c of COLORS) text.add(`how many ${c} objects are there ? the ${c} one is the ${c} ones are none of them is ${c} .`);
  for (const s of SHAPES) text.add(`how many ${PLURAL[s]} are there ? the ${s} is the ${PLURAL[s]} are none of them is a ${s} .`);
  for (const cell of CELLS) text.add(`is at the ${cell}`);
  for (const r of RELATIONS) text.add(`is the ${r} the ?`);
  text.add(`what color is a ${SIZES.join(' ')}`);
  for (const scene of scenes) {
    for (const q of reasoningQuestions(scene, rng)) {
      text.add(withReasoningPrompt(q.question));
      text.add(q.chain);
    }
  }
  return [...text];
}
