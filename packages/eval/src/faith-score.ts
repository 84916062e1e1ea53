/**
 * FaithScore-style open-set evaluation (Jing et al. 2023, arXiv:2311.01477): a free-form answer
 * is split into atomic facts, each fact is verified against the image, and the score is the
 * share of facts verified; per fact kind as well. FaithScore recognises descriptive sentences
 * and decomposes them with an LLM, then verifies with a visual entailment model; here facts come
 * from the Shapes vocabulary's phrases, and a fact is verified against a scene: the ground truth
 * (exact), or what a learned model saw (a detector's objects, as FaithScore's verifier is a
 * learned model). Kinds:
 *   object    - "a red circle"                       -> there is a red circle
 *   attribute - "a small red circle at the top left"  -> the red circle is small / is at the top left
 *   relation  - "the red circle is left of the blue square"
 *   count     - "there are two objects", "two red circles", "it is the only object"
 */
import { attributeClaims } from './attribute-chair';
import { SHAPES_VOCABULARY, type MentionVocabulary } from './mentions';
import { safeRatio } from './ratio';
import { SPATIAL_RELATIONS, cellRelationHolds, type SpatialRelation } from './spatial-relation';

export const FACT_KINDS = ['object', 'attribute', 'relation', 'count'] as const;
export type FactKind = (typeof FACT_KINDS)[number];

/** What facts are checked against: objects with colour, shape and, when known, size and cell. */
export interface FactScene {
  objects: { shape: string; color: string; size?: string; cell?: string }[];
}

export type AtomicFact =
  | { kind: 'object'; color: string; shape: string }
  | { kind: 'attribute'; color: string; shape: string; size?: string; cell?: string }
  | { kind: 'relation'; subject: { color: string; shape: string }; relation: Relation; object: { color: string; shape: string } }
  | { kind: 'count'; count: number; color?: string; shape?: string };

const RELATIONS = SPATIAL_RELATIONS;
type Relation = SpatialRelation;
const NUMBERS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

/** The text of a fact, for reports: "there is a red circle", "the red circle is small". */
export function factText(f: AtomicFact): string {
  switch (f.kind) {
    case 'object':
      return `there is a ${f.color} ${f.shape}`;
    case 'attribute':
      return f.size ? `the ${f.color} ${f.shape} is ${f.size}` : `the ${f.color} ${f.shape} is at the ${f.cell}`;
    case 'relation':
      return `the ${f.subject.color} ${f.subject.shape} is ${f.relation} the ${f.object.color} ${f.object.shape}`;
    case 'count':
      return `there ${f.count === 1 ? 'is' : 'are'} ${NUMBERS[f.count] ?? f.count} ${[f.color, f.shape ?? 'object'].filter(Boolean).join(' ')}${f.count === 1 ? '' : 's'}`;
  }
}

function countFacts(words: readonly string[], vocabulary: MentionVocabulary): AtomicFact[] {
  const colors = new Set(vocabulary.colors);
  const shapes = new Set(vocabulary.shapes);
  const noun = (w: string | undefined) => (w === undefined ? undefined : [...shapes, 'object'].find((s) => w === s || w === `${s}s` || w === `${s}es`));
  const facts: AtomicFact[] = [];
  words.forEach((w, i) => {
    if (w === 'only' && noun(words[i + 1]) === 'object') facts.push({ kind: 'count', count: 1 });
    const n = NUMBERS.indexOf(w);
    if (n < 0) return;
    const color = colors.has(words[i + 1] ?? '') ? words[i + 1] : undefined;
    const what = noun(words[i + (color ? 2 : 1)]);
    if (what === undefined) return;
    facts.push({ kind: 'count', count: n, ...(color && { color }), ...(what !== 'object' && { shape: what }) });
  });
  return facts;
}

function relationFacts(words: readonly string[], vocabulary: MentionVocabulary): AtomicFact[] {
  const colors = new Set(vocabulary.colors);
  const shapes = new Set(vocabulary.shapes);
  const isObject = (i: number) => colors.has(words[i] ?? '') && shapes.has(words[i + 1] ?? '');
  const facts: AtomicFact[] = [];
  for (let i = 0; i + 1 < words.length; i++) {
    if (!isObject(i)) continue;
    let k = i + 2;
    if (words[k] === 'is') k++;
    const relation = RELATIONS.find((r) => r.split(' ').every((part, j) => words[k + j] === part));
    if (!relation) continue;
    k += relation.split(' ').length;
    if (words[k] === 'the' || words[k] === 'a') k++;
    if (words[k] === 'small' || words[k] === 'large') k++;
    if (isObject(k)) facts.push({ kind: 'relation', subject: { color: words[i]!, shape: words[i + 1]! }, relation, object: { color: words[k]!, shape: words[k + 1]! } });
  }
  return facts;
}

/**
 * The atomic facts of a text, sentence by sentence: for every "<colour> <shape>" mention an
 * object fact, and an attribute fact per stated size and cell; relation and count facts from
 * their phrases.
 */
export function atomicFacts(text: string, vocabulary: MentionVocabulary = SHAPES_VOCABULARY): AtomicFact[] {
  return text
    .toLowerCase()
    .split(/[.!?;\n]+/)
    .flatMap((sentence) => {
      const words = sentence.split(/[^a-z]+/).filter((w) => w.length > 0);
      const mentions = attributeClaims(sentence, vocabulary).flatMap((c): AtomicFact[] => [
        { kind: 'object', color: c.color, shape: c.shape },
        ...(c.size ? [{ kind: 'attribute' as const, color: c.color, shape: c.shape, size: c.size }] : []),
        ...(c.cell ? [{ kind: 'attribute' as const, color: c.color, shape: c.shape, cell: c.cell }] : []),
      ]);
      return [...mentions, ...relationFacts(words, vocabulary), ...countFacts(words, vocabulary)];
    });
}

/** Whether `scene` supports the fact (relations by cell column and row, as the Shapes world defines them). */
export function verifyFact(fact: AtomicFact, scene: FactScene): boolean {
  const of = (c: { color: string; shape: string }) => scene.objects.filter((o) => o.color === c.color && o.shape === c.shape);
  switch (fact.kind) {
    case 'object':
      return of(fact).length > 0;
    case 'attribute':
      return of(fact).some((o) => (fact.size === undefined || o.size === fact.size) && (fact.cell === undefined || o.cell === fact.cell));
    case 'relation':
      return of(fact.subject).some((a) => of(fact.object).some((b) => a !== b && cellRelationHolds(a.cell, fact.relation, b.cell)));
    case 'count':
      return scene.objects.filter((o) => (fact.color === undefined || o.color === fact.color) && (fact.shape === undefined || o.shape === fact.shape)).length === fact.count;
  }
}

export interface FaithScoreResult {
  /** Verified facts / facts over all texts (0 with no facts). */
  score: number;
  /** The same per fact kind (0 for a kind with no facts). */
  byKind: Record<FactKind, number>;
  facts: number;
  factsByKind: Record<FactKind, number>;
  /** Texts with no fact at all (FaithScore leaves them out of the score; too many means the answers say nothing checkable). */
  textsWithoutFacts: number;
}

/** FaithScore over texts, each checked against its scene (ground truth, or a learned model's view of the image). */
export function faithScore(items: readonly { text: string; scene: FactScene }[], vocabulary: MentionVocabulary = SHAPES_VOCABULARY): FaithScoreResult {
  const facts = { object: 0, attribute: 0, relation: 0, count: 0 };
  const verified = { object: 0, attribute: 0, relation: 0, count: 0 };
  let textsWithoutFacts = 0;
  for (const { text, scene } of items) {
    const list = atomicFacts(text, vocabulary);
    if (list.length === 0) textsWithoutFacts++;
    for (const fact of list) {
      facts[fact.kind]++;
      if (verifyFact(fact, scene)) verified[fact.kind]++;
    }
  }
  const total = FACT_KINDS.reduce((n, k) => n + facts[k], 0);
  const good = FACT_KINDS.reduce((n, k) => n + verified[k], 0);
  return {
    score: safeRatio(good, total),
    byKind: Object.fromEntries(FACT_KINDS.map((k) => [k, safeRatio(verified[k], facts[k])])) as Record<FactKind, number>,
    facts: total,
    factsByKind: facts,
    textsWithoutFacts,
  };
}
