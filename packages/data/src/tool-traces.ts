import type { Rng } from '@mllm/core';
import { ALL_CATEGORIES, COLORS, categoryOf, sceneCategories } from './scene';
import type { Color, Scene, SceneObject, Shape } from './scene';
import { NUMBER_WORDS, RELATIONS, holds } from './language';
import { COUNT_QUESTION, existenceQuestion } from './closed-set';
import { CALL_WORD, RESULT_WORD, compareObjects, countObjects, renderDetections, detectObjects, toolWords, type ObjectFilter } from './tool-logic';
import type { LlavaSample, LlavaTurn } from './llava';

/**
 * Tool-use traces in the Shapes world (GPT4Tools, Yang et al. 2023; LLaVA-Plus, Liu et al.
 * 2023): a question, the calls a controller should write, the results the tools give on the
 * ground truth, and the answer the controller writes from them. As instruct data they teach a
 * model to plan calls, decide after each result whether to call again, and rewrite the tool's
 * output ("true", "2", "large red circle at the top left") into the answer ("yes", "two", "red").
 * A generator of its own beside the closed-set one, so other runs keep their random streams.
 */

export type ToolQuestionType = 'spatial' | 'count' | 'color' | 'existence' | 'more';

export interface ToolStep {
  /** The controller's call, "call compare red circle left of blue square". */
  call: string;
  /** The tool's reply as the session writes it, "result true". */
  result: string;
}

export interface ToolQuestion {
  type: ToolQuestionType;
  question: string;
  /** The short answer ("yes", "two", "red"). */
  answer: string;
  /** The calls and results that reach the answer from the ground truth, in order. */
  steps: ToolStep[];
}

const PLURAL: Record<Shape, string> = { circle: 'circles', square: 'squares', triangle: 'triangles', cross: 'crosses' };

const filterWords = (f: ObjectFilter) => [f.color, f.shape].filter((w) => w !== undefined).join(' ');
const call = (tool: string, args: string) => (args ? `${CALL_WORD} ${tool} ${args}` : `${CALL_WORD} ${tool}`);
const result = (text: string) => `${RESULT_WORD} ${text}`;

function countStep(scene: Scene, filter: ObjectFilter): { step: ToolStep; n: number } {
  const text = countObjects(scene.objects, filter);
  return { step: { call: call('count', filterWords(filter)), result: result(text) }, n: Number(text) };
}

function spatial(scene: Scene, rng: Rng): ToolQuestion | undefined {
  const named = scene.objects.filter((o) => scene.objects.filter((p) => categoryOf(p) === categoryOf(o)).length === 1);
  if (named.length < 2) return undefined;
  const [a, b] = rng.shuffle(named) as [SceneObject, SceneObject];
  const truth = rng.next() < 0.5;
  const relation = rng.pick(RELATIONS.filter((r) => holds(a, r, b) === truth));
  const compared = compareObjects(scene.objects, a, relation, b);
  return {
    type: 'spatial',
    question: `is the ${categoryOf(a)} ${relation} the ${categoryOf(b)} ?`,
    answer: truth ? 'yes' : 'no',
    steps: [{ call: call('compare', `${categoryOf(a)} ${relation} ${categoryOf(b)}`), result: result(compared.text) }],
  };
}

function count(scene: Scene, rng: Rng): ToolQuestion {
  const roll = rng.next();
  const o = rng.pick(scene.objects);
  const [question, filter] =
    roll < 1 / 3 ? [COUNT_QUESTION, {}] : roll < 2 / 3 ? [`how many ${o.color} objects are there ?`, { color: o.color }] : [`how many ${PLURAL[o.shape]} are there ?`, { shape: o.shape }];
  const { step, n } = countStep(scene, filter);
  return { type: 'count', question, answer: NUMBER_WORDS[n]!, steps: [step] };
}

function color(scene: Scene, rng: Rng): ToolQuestion | undefined {
  const unique = scene.objects.filter((o) => scene.objects.filter((p) => p.shape === o.shape).length === 1);
  if (unique.length === 0) return undefined;
  const o = rng.pick(unique);
  const seen = renderDetections(detectObjects(scene.objects, { shape: o.shape }));
  return { type: 'color', question: `what color is the ${o.shape} ?`, answer: o.color, steps: [{ call: call('detect', o.shape), result: result(seen) }] };
}

function existence(scene: Scene, rng: Rng): ToolQuestion {
  const present = sceneCategories(scene);
  const category = rng.next() < 0.5 ? rng.pick(present) : rng.pick(ALL_CATEGORIES.filter((c) => !present.includes(c)));
  const [c, s] = category.split(' ') as [Color, Shape];
  const { step, n } = countStep(scene, { color: c, shape: s });
  return { type: 'existence', question: existenceQuestion(category), answer: n > 0 ? 'yes' : 'no', steps: [step] };
}

/** Two counts, then a comparison the controller makes itself: the decision to call again is part of the trace. */
function more(scene: Scene, rng: Rng): ToolQuestion {
  const [c1, c2] = rng.shuffle([...COLORS]) as [Color, Color];
  const first = countStep(scene, { color: c1 });
  const second = countStep(scene, { color: c2 });
  return { type: 'more', question: `are there more ${c1} objects than ${c2} objects ?`, answer: first.n > second.n ? 'yes' : 'no', steps: [first.step, second.step] };
}

/** One question of each type the scene allows (spatial needs two uniquely named objects, colour a unique shape). */
export function toolQuestions(scene: Scene, rng: Rng): ToolQuestion[] {
  return [spatial(scene, rng), count(scene, rng), color(scene, rng), existence(scene, rng), more(scene, rng)].filter((q): q is ToolQuestion => q !== undefined);
}

/** The trace as chat turns: the question (with the image), then call / result pairs, then the answer. */
export function toolTraceTurns(q: ToolQuestion, withImage = true): LlavaTurn[] {
  return [
    { from: 'human', value: withImage ? `<image>\n${q.question}` : q.question },
    ...q.steps.flatMap((s): LlavaTurn[] => [
      { from: 'gpt', value: s.call },
      { from: 'human', value: s.result },
    ]),
    { from: 'gpt', value: q.answer },
  ];
}

/** One instruct sample: a question of a random type with its tool-use trace. */
export function toolTraceSample(scene: Scene, rng: Rng): LlavaSample {
  const q = rng.pick(toolQuestions(scene, rng));
  return { id: `${scene.id}-tools-${q.type}`, image: scene.id, conversations: toolTraceTurns(q) };
}

/** Every text tool traces use, for the tokenizer of a run that trains or evaluates tool use. */
export function toolCorpus(scenes: readonly Scene[], rng: Rng): string[] {
  const text = new Set<string>(toolWords());
  for (const c of COLORS) text.add(`are there more ${c} objects than objects ?`);
  for (const s of Object.values(PLURAL)) text.add(`how many ${s} are there ?`);
  for (const scene of scenes) for (const q of toolQuestions(scene, rng)) for (const turn of toolTraceTurns(q, false)) text.add(turn.value);
  return [...text];
}
