import { ALL_CATEGORIES, CELLS, COLORS, caption, detailedDescription, sceneCategories, type Cell, type Scene, type SceneObject } from '@mllm/data';
import type { Rng } from '@mllm/core';
import { exactVerdict } from './judge-exact';

/**
 * Responses for training and measuring a hallucination judge (HaELM, Wang et al. 2023,
 * arXiv:2308.15126, trains its judge on LLM-made hallucinatory and faithful responses). Each
 * response describes a Shapes scene in the phrasing the models produce (detailedDescription's
 * grammar, with what their outputs do wrong: a sentence missing, one repeated, the last one cut
 * off, a relation between two names of one object), with 0-3 injected edits of the kinds a
 * description can get wrong. The label is what the exact checker says of the finished text,
 * never the recipe: an edit can come to nothing (an added object where no cell is free, a
 * relation edit in a one-object scene) or be cut off with the last sentence.
 */

export const RESPONSE_EDITS = ['absent-object', 'added-object', 'color', 'size', 'position', 'count', 'relation'] as const;
export type ResponseEdit = (typeof RESPONSE_EDITS)[number];

export interface JudgeResponse {
  sceneId: string;
  /** The scene's ground-truth detailed description: what a text-only judge reads instead of the image. */
  reference: string;
  response: string;
  /** What the exact checker says of `response` (the label). */
  hallucinates: boolean;
  /** 10 x the response's FaithScore; undefined when it states no fact. */
  score?: number;
  /** The edits injected (empty for a faithful draft); for analysis only, never the label. */
  edits: ResponseEdit[];
}

const RELATIONS = ['left of', 'right of', 'above', 'below'] as const;
type Relation = (typeof RELATIONS)[number];

/** The exact spatial rule of the Shapes world (language.ts `holds`), on cells. */
function holds(a: Cell, relation: Relation, b: Cell): boolean {
  const [ra, ca] = a.split(' ');
  const [rb, cb] = b.split(' ');
  if (relation === 'left of') return ca === 'left' && cb === 'right';
  if (relation === 'right of') return ca === 'right' && cb === 'left';
  if (relation === 'above') return ra === 'top' && rb === 'bottom';
  return ra === 'bottom' && rb === 'top';
}

/** What a response will say before it is worded: a count, objects, one relation sentence. */
interface Draft {
  count: number;
  objects: SceneObject[];
  /** Indices into objects, and the relation stated between them (undefined: the one that holds). */
  relation?: { a: number; b: number; relation?: Relation };
}

const name = (o: SceneObject) => `${o.size} ${o.color} ${o.shape}`;
const NUMBERS = ['zero', 'one', 'two', 'three', 'four'];

function sentences(d: Draft): string[] {
  const count = d.count === 1 ? 'there is one object in the image .' : `there are ${NUMBERS[d.count]} objects in the image .`;
  const out = [count, ...d.objects.map((o) => `a ${name(o)} is at the ${o.cell} .`)];
  if (d.objects.length < 2 || !d.relation) return d.objects.length === 1 ? [...out, 'it is the only object .'] : out;
  const a = d.objects[d.relation.a]!;
  const b = d.objects[d.relation.b]!;
  const relation = d.relation.relation ?? RELATIONS.find((r) => holds(a.cell, r, b.cell)) ?? 'left of';
  return [...out, `the ${name(a)} is ${relation} the ${name(b)} .`];
}

function edit(d: Draft, kind: ResponseEdit, rng: Rng): void {
  const i = rng.int(d.objects.length);
  const o = d.objects[i]!;
  const empty = CELLS.filter((c) => !d.objects.some((p) => p.cell === c));
  const absent = ALL_CATEGORIES.filter((c) => !sceneCategories({ id: '', objects: d.objects }).includes(c));
  const category = () => {
    const [color, shape] = rng.pick(absent).split(' ') as [SceneObject['color'], SceneObject['shape']];
    return { color, shape };
  };
  if (kind === 'absent-object') d.objects[i] = { ...o, ...category() };
  else if (kind === 'added-object' && empty.length > 0) {
    d.objects.push({ ...o, ...category(), size: rng.pick(['small', 'large'] as const), cell: rng.pick(empty) });
    d.objects.sort((p, q) => CELLS.indexOf(p.cell) - CELLS.indexOf(q.cell));
    if (rng.next() < 0.5) d.count = d.objects.length;
  } else if (kind === 'color') d.objects[i] = { ...o, color: rng.pick(COLORS.filter((c) => c !== o.color)) };
  else if (kind === 'size') d.objects[i] = { ...o, size: o.size === 'small' ? 'large' : 'small' };
  else if (kind === 'position') d.objects[i] = { ...o, cell: rng.pick(empty.length > 0 ? empty : CELLS.filter((c) => c !== o.cell)) };
  else if (kind === 'count') d.count = rng.pick([1, 2, 3, 4].filter((n) => n !== d.count));
  else if (kind === 'relation' && d.relation) {
    const { a, b } = d.relation;
    const self = rng.next() < 0.3; // "the blue square is left of the blue square": the models' favourite
    d.relation = self ? { a, b: a, relation: rng.pick(RELATIONS) } : { a, b, relation: rng.pick(RELATIONS.filter((r) => !holds(d.objects[a]!.cell, r, d.objects[b]!.cell))) };
  }
}

/** How the models' outputs differ from the reference grammar, each with its probability. */
function phrase(lines: string[], rng: Rng): string[] {
  let out = [...lines];
  const objectLines = () => out.map((s, k) => (s.startsWith('a ') ? k : -1)).filter((k) => k >= 0);
  if (rng.next() < 0.08) out = out.slice(1); // no count sentence
  if (rng.next() < 0.1 && out.at(-1)!.startsWith('the ')) out = out.slice(0, -1); // no relation sentence
  if (rng.next() < 0.1 && objectLines().length > 1) out.splice(rng.pick(objectLines()), 1); // an object left out
  if (rng.next() < 0.08 && objectLines().length > 0) {
    const k = rng.pick(objectLines());
    out.splice(k + 1, 0, out[k]!); // a sentence said twice
  }
  if (rng.next() < 0.05) out = out.map((s) => s.replace(/\b(small|large) /g, '')); // sizes left out
  if (rng.next() < 0.1) {
    const words = out.pop()!.split(' ');
    out.push(words.slice(0, 1 + rng.int(words.length - 1)).join(' ')); // cut off by the token budget
  }
  return out;
}

/** How many edits a response gets: about half are faithful drafts, as a judge must not learn "always yes". */
const EDIT_COUNTS = { '0': 0.45, '1': 0.35, '2': 0.12, '3': 0.08 };

/** One response about `scene`, labelled by the exact checker; now and then the short caption grammar. */
export function judgeResponse(scene: Scene, rng: Rng): JudgeResponse {
  const reference = detailedDescription(scene);
  const d: Draft = { count: scene.objects.length, objects: scene.objects.map((o) => ({ ...o })), ...(scene.objects.length > 1 && { relation: { a: 0, b: 1 } }) };
  const edits = Array.from({ length: Number(rng.weighted(EDIT_COUNTS)) }, () => rng.pick(RESPONSE_EDITS));
  for (const kind of edits) edit(d, kind, rng);
  const text = rng.next() < 0.05 ? caption({ id: scene.id, objects: d.objects }) : phrase(sentences(d), rng).join(' ');
  return { sceneId: scene.id, reference, response: text, ...exactVerdict(scene, text), edits };
}

/** `perScene` responses for each scene, in scene order. */
export function judgeResponses(scenes: readonly Scene[], perScene: number, rng: Rng): JudgeResponse[] {
  return scenes.flatMap((scene) => Array.from({ length: perScene }, () => judgeResponse(scene, rng)));
}

/** A response a model gave (a run's detailed description), labelled the same way. */
export function modelResponse(scene: Scene, text: string): JudgeResponse {
  return { sceneId: scene.id, reference: detailedDescription(scene), response: text, ...exactVerdict(scene, text), edits: [] };
}
