import type { Rng } from '@mllm/core';
import { ALL_CATEGORIES, CELLS, COLORS, sceneCategories, type Scene, type SceneObject } from './scene';
import { NUMBER_WORDS, RELATIONS, caption, holds, type Relation } from './language';

/**
 * Descriptions of a Shapes scene with hallucinations injected, in the phrasing the models
 * produce (detailedDescription's grammar, with what their outputs do wrong: a sentence missing,
 * one repeated, the last one cut off, a relation between two names of one object), with 0-3
 * edits of the kinds a description can get wrong. Two users: a hallucination judge trains on
 * them (HaELM, Wang et al. 2023, arXiv:2308.15126, trains its judge on LLM-made hallucinatory
 * and faithful responses), and a revisor learns to rewrite them into the truth (LURE, Zhou et
 * al. 2023, arXiv:2310.00754, makes its revisor's inputs by adding co-occurring objects and
 * masking uncertain ones). The edits are the recipe, never a label: an edit can come to nothing
 * (an added object where no cell is free) or be cut off with the last sentence.
 */
export const RESPONSE_EDITS = ['absent-object', 'added-object', 'color', 'size', 'position', 'count', 'relation'] as const;
export type ResponseEdit = (typeof RESPONSE_EDITS)[number];

/** What a response will say before it is worded: a count, objects, one relation sentence. */
interface Draft {
  count: number;
  objects: SceneObject[];
  /** Indices into objects, and the relation stated between them (undefined: the one that holds). */
  relation?: { a: number; b: number; relation?: Relation };
}

const name = (o: SceneObject) => `${o.size} ${o.color} ${o.shape}`;

function sentences(d: Draft): string[] {
  const count = d.count === 1 ? 'there is one object in the image .' : `there are ${NUMBER_WORDS[d.count]} objects in the image .`;
  const out = [count, ...d.objects.map((o) => `a ${name(o)} is at the ${o.cell} .`)];
  if (d.objects.length < 2 || !d.relation) return d.objects.length === 1 ? [...out, 'it is the only object .'] : out;
  const a = d.objects[d.relation.a]!;
  const b = d.objects[d.relation.b]!;
  const relation = d.relation.relation ?? RELATIONS.find((r) => holds(a, r, b)) ?? 'left of';
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
    d.relation = self ? { a, b: a, relation: rng.pick(RELATIONS) } : { a, b, relation: rng.pick(RELATIONS.filter((r) => !holds(d.objects[a]!, r, d.objects[b]!))) };
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

/** A description of `scene` with 0-3 injected hallucinations (`edits`); now and then the short caption grammar. */
export function hallucinatedDescription(scene: Scene, rng: Rng): { text: string; edits: ResponseEdit[] } {
  const d: Draft = { count: scene.objects.length, objects: scene.objects.map((o) => ({ ...o })), ...(scene.objects.length > 1 && { relation: { a: 0, b: 1 } }) };
  const edits = Array.from({ length: Number(rng.weighted(EDIT_COUNTS)) }, () => rng.pick(RESPONSE_EDITS));
  for (const kind of edits) edit(d, kind, rng);
  const text = rng.next() < 0.05 ? caption({ id: scene.id, objects: d.objects }) : phrase(sentences(d), rng).join(' ');
  return { text, edits };
}
