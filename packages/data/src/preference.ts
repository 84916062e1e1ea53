import type { Rng } from '@mllm/core';
import { ALL_CATEGORIES, CELLS, COLORS, categoryOf, sceneCategories } from './scene';
import type { Color, ObjectCategory, Scene, SceneObject, Shape } from './scene';
import { RELATIONS, caption, describeObject, detailedDescription, holds } from './language';
import { existenceQuestion } from './closed-set';
import { DETAIL_PROMPT, IMAGE_TOKEN, captionSample } from './llava';

/**
 * Preference pairs for alignment tuning (DPO, reward models) in the Shapes world: the chosen
 * answer is faithful to the scene, the rejected one carries exactly one hallucination of a
 * known kind, the way hallucination-targeted preference data is built (HA-DPO, POVID,
 * RLHF-V): take a correct answer and inject one error.
 */

/** The three hallucination types MLLM surveys distinguish (Bai et al. 2024). */
export type HallucinationKind = 'existence' | 'attribute' | 'relationship';
export const HALLUCINATION_KINDS: readonly HallucinationKind[] = ['existence', 'attribute', 'relationship'];

export type PreferenceTask = 'caption' | 'detail' | 'question';
export const PREFERENCE_TASKS: readonly PreferenceTask[] = ['caption', 'detail', 'question'];

/** One preference record as trainers consume it (TRL's "prompt" / "chosen" / "rejected"). */
export interface PreferenceRecord {
  /** The human turn; for image data it starts with "<image>\n" as in LLaVA samples. */
  prompt: string;
  chosen: string;
  rejected: string;
  /** A scene id (Shapes world) or an image file path. */
  image?: string;
}

export interface PreferencePair extends PreferenceRecord {
  /** `<scene id>-pref-<task>`. */
  id: string;
  image: string;
  /** The kind actually injected (after any fallback, see preferencePairs). */
  kind: HallucinationKind;
  task: PreferenceTask;
}

export interface PreferenceOptions {
  /** Relative weights of the kinds (need not sum to 1); missing kinds weigh 0. Default: equal. */
  kinds?: Partial<Record<HallucinationKind, number>>;
  /** Which pairs to make per scene, one each, in this order. Default: all of PREFERENCE_TASKS. */
  tasks?: readonly PreferenceTask[];
}

/**
 * Which kinds can be injected into this scene's answer for a task:
 * - caption: existence, attribute always; relationship (an object named at a wrong cell) needs
 *   an empty cell or two objects that read differently;
 * - detail: existence, attribute always; relationship (a false relation sentence) needs 2 objects;
 * - question: existence always; attribute (a colour question) needs a shape that occurs once;
 *   relationship (a spatial question) needs 2 objects whose colour + shape is unique.
 */
export function possibleKinds(scene: Scene, task: PreferenceTask): HallucinationKind[] {
  const relationship =
    task === 'caption' ? emptyCells(scene).length > 0 || distinguishablePairs(scene).length > 0
    : task === 'detail' ? scene.objects.length >= 2
    : namedObjects(scene).length >= 2;
  const attribute = task !== 'question' || uniqueShapeObjects(scene).length > 0;
  return HALLUCINATION_KINDS.filter((k) => k === 'existence' || (k === 'attribute' ? attribute : relationship));
}

/**
 * One preference pair per task for a scene; each pair's kind is drawn from `options.kinds`.
 * When the drawn kind is impossible for the scene and task (see possibleKinds), the possible
 * kind with the largest weight is used instead (ties in HALLUCINATION_KINDS order; existence
 * is always possible), and `kind` records it: the pair count stays fixed per scene, and the
 * fallback never depends on the rng.
 *
 * Caption and detail pairs reject the text of an edited scene, so the rejected answer reads
 * exactly like a real one (same templates, objects in cell order) and differs only by the edit:
 * - existence: one object is replaced, at its cell, by one of an absent colour + shape;
 * - attribute: one object's colour or size is changed;
 * - relationship: caption: one object moves to an empty cell (or two objects swap cells when all
 *   are full); detail: the relation sentence names a relation that `holds` says is false.
 * Question pairs answer a closed-set question correctly vs wrongly: existence "is there a ...",
 * attribute "what color is the <shape> ?", relationship "is the a <relation> the b ?".
 */
export function preferencePairs(scene: Scene, rng: Rng, options: PreferenceOptions = {}): PreferencePair[] {
  const weights = kindWeights(options.kinds);
  const tasks = options.tasks ?? PREFERENCE_TASKS;
  for (const t of tasks) {
    if (!PREFERENCE_TASKS.includes(t)) throw new Error(`preferencePairs: unknown task "${t}"; use ${PREFERENCE_TASKS.join(', ')}`);
  }
  return tasks.map((task) => {
    const possible = possibleKinds(scene, task);
    const drawn = rng.weighted(weights);
    const kind = possible.includes(drawn) ? drawn : fallbackKind(possible, weights);
    const pair = task === 'question' ? questionPair(scene, kind, rng) : textPair(scene, task, kind, rng);
    return { id: `${scene.id}-pref-${task}`, image: scene.id, kind, task, ...pair };
  });
}

function kindWeights(kinds: PreferenceOptions['kinds']): Record<HallucinationKind, number> {
  const w = Object.fromEntries(HALLUCINATION_KINDS.map((k) => [k, kinds ? (kinds[k] ?? 0) : 1])) as Record<HallucinationKind, number>;
  for (const k of HALLUCINATION_KINDS) {
    if (!Number.isFinite(w[k]) || w[k] < 0) throw new Error(`preferencePairs: kinds.${k} must be a finite number >= 0, got ${w[k]}`);
  }
  if (HALLUCINATION_KINDS.every((k) => w[k] === 0)) {
    throw new Error(`preferencePairs: every kind weighs 0; give at least one of ${HALLUCINATION_KINDS.join(', ')} a positive weight`);
  }
  return w;
}

function fallbackKind(possible: HallucinationKind[], weights: Record<HallucinationKind, number>): HallucinationKind {
  return possible.reduce((best, k) => (weights[k] > weights[best] ? k : best));
}

type Answers = Pick<PreferencePair, 'prompt' | 'chosen' | 'rejected'>;

function withImage(prompt: string): string {
  return `${IMAGE_TOKEN}\n${prompt}`;
}

function textPair(scene: Scene, task: 'caption' | 'detail', kind: HallucinationKind, rng: Rng): Answers {
  const describe = task === 'caption' ? caption : detailedDescription;
  // the caption prompt is the one the scene's LLaVA caption sample uses, so the pair shares its context
  const prompt = task === 'caption' ? captionSample(scene).conversations[0]!.value : withImage(DETAIL_PROMPT);
  const chosen = describe(scene);
  if (kind === 'existence') return { prompt, chosen, rejected: describe(substituteAbsentObject(scene, rng)) };
  if (kind === 'attribute') return { prompt, chosen, rejected: describe(changeAttribute(scene, rng)) };
  if (task === 'caption') return { prompt, chosen, rejected: describe(moveObject(scene, rng)) };
  return { prompt, chosen, rejected: falseRelation(scene, chosen, rng) };
}

function questionPair(scene: Scene, kind: HallucinationKind, rng: Rng): Answers {
  const yesNo = (truth: boolean) => (truth ? { chosen: 'yes', rejected: 'no' } : { chosen: 'no', rejected: 'yes' });
  if (kind === 'existence') {
    const present = sceneCategories(scene);
    const askPresent = rng.next() < 0.5; // balanced, so "always answer no" is not what DPO learns
    const category = rng.pick(askPresent ? present : ALL_CATEGORIES.filter((c) => !present.includes(c)));
    return { prompt: withImage(existenceQuestion(category)), ...yesNo(askPresent) };
  }
  if (kind === 'attribute') {
    const o = rng.pick(uniqueShapeObjects(scene));
    const wrong = rng.pick(COLORS.filter((c) => c !== o.color));
    return { prompt: withImage(`what color is the ${o.shape} ?`), chosen: o.color, rejected: wrong };
  }
  const [a, b] = rng.shuffle(namedObjects(scene)) as [SceneObject, SceneObject];
  const truth = rng.next() < 0.5;
  const relation = rng.pick(RELATIONS.filter((r) => holds(a, r, b) === truth));
  return { prompt: withImage(`is the ${categoryOf(a)} ${relation} the ${categoryOf(b)} ?`), ...yesNo(truth) };
}

/** The edited scene keeps CELLS order, which caption and detailedDescription rely on. */
function edited(scene: Scene, objects: SceneObject[]): Scene {
  return { id: scene.id, objects: [...objects].sort((p, q) => CELLS.indexOf(p.cell) - CELLS.indexOf(q.cell)) };
}

function emptyCells(scene: Scene) {
  return CELLS.filter((c) => !scene.objects.some((o) => o.cell === c));
}

function distinguishablePairs(scene: Scene): [number, number][] {
  const out: [number, number][] = [];
  scene.objects.forEach((p, i) =>
    scene.objects.forEach((q, j) => {
      if (i < j && describeObject(p) !== describeObject(q)) out.push([i, j]);
    }),
  );
  return out;
}

/** Objects whose colour + shape is unique in the scene, so "the red circle" names one object. */
function namedObjects(scene: Scene): SceneObject[] {
  return scene.objects.filter((o) => scene.objects.filter((p) => categoryOf(p) === categoryOf(o)).length === 1);
}

function uniqueShapeObjects(scene: Scene): SceneObject[] {
  return scene.objects.filter((o) => scene.objects.filter((p) => p.shape === o.shape).length === 1);
}

function splitCategory(c: ObjectCategory): { color: Color; shape: Shape } {
  const [color, shape] = c.split(' ') as [Color, Shape];
  return { color, shape };
}

/**
 * One object becomes an object of an absent category with another shape, at the same cell and
 * size. Substitution, not an added object: with an extra object the rejected answer is always
 * the longer one, and DPO learns to name fewer objects (measured: detail coverage 0.78 -> 0.57)
 * instead of naming the right ones. A wrong shape at the right place is also the error the
 * instruction-tuned model makes (a triangle where the cross is).
 */
function substituteAbsentObject(scene: Scene, rng: Rng): Scene {
  const present = sceneCategories(scene);
  const absent = ALL_CATEGORIES.filter((c) => !present.includes(c));
  const i = rng.int(scene.objects.length);
  const target = scene.objects[i]!;
  const other = rng.pick(absent.filter((c) => splitCategory(c).shape !== target.shape));
  return edited(scene, scene.objects.map((o, k) => (k === i ? { ...o, ...splitCategory(other) } : o)));
}

function changeAttribute(scene: Scene, rng: Rng): Scene {
  const i = rng.int(scene.objects.length);
  const o = scene.objects[i]!;
  const changed: SceneObject =
    rng.next() < 0.5
      ? { ...o, color: rng.pick(COLORS.filter((c) => c !== o.color)) }
      : { ...o, size: o.size === 'small' ? 'large' : 'small' };
  return edited(scene, scene.objects.map((p, k) => (k === i ? changed : p)));
}

function moveObject(scene: Scene, rng: Rng): Scene {
  const free = emptyCells(scene);
  if (free.length > 0) {
    const i = rng.int(scene.objects.length);
    const cell = rng.pick(free);
    return edited(scene, scene.objects.map((o, k) => (k === i ? { ...o, cell } : o)));
  }
  // swapping two objects that read the same would leave the text unchanged
  const [i, j] = rng.pick(distinguishablePairs(scene));
  const objs = scene.objects;
  return edited(scene, objs.map((o, k) => (k === i ? { ...o, cell: objs[j]!.cell } : k === j ? { ...o, cell: objs[i]!.cell } : o)));
}

/** Replaces the relation in the description's relation sentence (between the first two objects). */
function falseRelation(scene: Scene, description: string, rng: Rng): string {
  const [a, b] = scene.objects as [SceneObject, SceneObject];
  const stated = RELATIONS.find((r) => holds(a, r, b))!;
  const needle = ` is ${stated} the `;
  const at = description.lastIndexOf(needle);
  if (at < 0) throw new Error(`preferencePairs: no relation sentence "${needle.trim()}" in "${description}"; detailedDescription's format changed`);
  const wrong = rng.pick(RELATIONS.filter((r) => !holds(a, r, b)));
  return `${description.slice(0, at)} is ${wrong} the ${description.slice(at + needle.length)}`;
}
