import { CELLS, COLORS, SHAPES, SIZES } from './scene';
import type { Cell, Color, Scene, SceneObject, Shape, Size } from './scene';
import { NUMBER_WORDS, RELATIONS, holds } from './language';
import type { Relation } from './language';
import type { HallucinationKind } from './preference';

/**
 * Checks a detailed description against its scene, claim by claim, and names the kind of
 * every hallucination with preferencePairs' three kinds (the edits its rejected answers make
 * are exactly what this counts). Reads the grammar of `detailedDescription` (and `caption`):
 *   "there are two objects in the image ." / "a large red circle is at the top left ." /
 *   "the large red circle is left of the small blue square ."
 * and forgives what a model's output does wrong: a missing size or article, a truncated last
 * sentence, repeated or garbage words. Nothing in the text makes it throw.
 */

/** What a text says an object looks like; a missing size matches any size. */
export interface StatedObject {
  size?: Size;
  color: Color;
  shape: Shape;
}

/** One object claim ("a large red circle is at the top left") and its verdict. */
export interface ObjectClaimCheck extends StatedObject {
  /** Undefined when the text breaks off before naming a cell (or never names one). */
  cell?: Cell;
  verdict: 'correct' | HallucinationKind;
  /** Index in scene.objects of the object the claim is taken to be about (none for existence). */
  referent?: number;
}

/** One relation sentence ("the A is left of the B") and its verdict. */
export interface RelationClaimCheck {
  subject: StatedObject;
  relation: Relation;
  object: StatedObject;
  /** 'unresolved': a named object is a hallucinated one, or the two names are one object; not a claim. */
  verdict: 'true' | 'false' | 'unresolved';
}

export interface DescriptionCheck {
  /** Claims judged: every object claim plus every resolved relation sentence. */
  claims: number;
  /** Object claims no scene object explains: an absent colour + shape, or one copy more than the scene holds. */
  existence: number;
  /** Object claims with the wrong colour or size for the object at that cell (or the wrong size for its category). */
  attribute: number;
  /** Object claims at the wrong cell plus relation sentences that `holds` says are false. */
  relationship: number;
  /** Resolved relation sentences, and how many of them are false. */
  relations: number;
  falseRelations: number;
  /** The count sentence's number and the true one; absent when the text has none. */
  count?: { stated: number; actual: number };
  objects: ObjectClaimCheck[];
  relationChecks: RelationClaimCheck[];
}

const SIZE_SET: ReadonlySet<string> = new Set(SIZES);
const COLOR_SET: ReadonlySet<string> = new Set(COLORS);
const SHAPE_SET: ReadonlySet<string> = new Set(SHAPES);

interface Phrase extends StatedObject {
  start: number;
  end: number;
}

/** "[size] colour shape" at tokens[i] (colour and shape adjacent, as parseMentions reads them). */
function phraseAt(tokens: string[], i: number): Phrase | undefined {
  const size = SIZE_SET.has(tokens[i]!) ? (tokens[i] as Size) : undefined;
  const c = size ? i + 1 : i;
  if (!COLOR_SET.has(tokens[c]!) || !SHAPE_SET.has(tokens[c + 1]!)) return undefined;
  return { size, color: tokens[c] as Color, shape: tokens[c + 1] as Shape, start: i, end: c + 2 };
}

/** A relation's words at tokens[i] ("left of", "above", ...), or undefined. */
function relationAt(tokens: string[], i: number): { relation: Relation; end: number } | undefined {
  for (const relation of RELATIONS) {
    const words = relation.split(' ');
    if (words.every((w, k) => tokens[i + k] === w)) return { relation, end: i + words.length };
  }
  return undefined;
}

function cellAt(tokens: string[], i: number): Cell | undefined {
  return CELLS.find((c) => `${tokens[i]} ${tokens[i + 1]}` === c);
}

interface ParsedClaim extends StatedObject {
  cell?: Cell;
}
interface ParsedRelation {
  subject: StatedObject;
  relation: Relation;
  object: StatedObject;
}

const stated = (p: Phrase): StatedObject => ({ ...(p.size ? { size: p.size } : {}), color: p.color, shape: p.shape });

/**
 * Sentence by sentence: a phrase followed by "is <relation> [the] phrase" is a relation; one
 * followed by "[is] at [the] <cell>" is an object claim; any other phrase is a claim without a
 * cell, unless "the" introduces it (a reference back, as in a relation sentence cut short).
 */
function parse(text: string): { claims: ParsedClaim[]; relations: ParsedRelation[]; count?: number } {
  const claims: ParsedClaim[] = [];
  const relations: ParsedRelation[] = [];
  let count: number | undefined;
  const sentences = text.toLowerCase().split(/[.?!;]/);
  for (const sentence of sentences) {
    const tokens = sentence.split(/[^a-z]+/).filter((w) => w.length > 0);
    const m = /^there (?:is|are) (\w+) objects? in the image$/.exec(tokens.join(' '));
    const n = m ? (NUMBER_WORDS as readonly string[]).indexOf(m[1]!) : -1;
    if (n >= 0 && count === undefined) count = n;
    for (let i = 0; i < tokens.length; ) {
      const p = phraseAt(tokens, i);
      if (!p) {
        i++;
        continue;
      }
      const isAt = tokens[p.end] === 'is' ? p.end + 1 : p.end;
      const rel = tokens[p.end] === 'is' ? relationAt(tokens, p.end + 1) : undefined;
      if (rel) {
        const q = phraseAt(tokens, tokens[rel.end] === 'the' ? rel.end + 1 : rel.end);
        if (q) relations.push({ subject: stated(p), relation: rel.relation, object: stated(q) });
        i = q ? q.end : rel.end;
      } else if (tokens[isAt] === 'at') {
        const at = tokens[isAt + 1] === 'the' ? isAt + 2 : isAt + 1;
        const cell = cellAt(tokens, at);
        claims.push({ ...stated(p), ...(cell ? { cell } : {}) });
        i = cell ? at + 2 : at;
      } else {
        if (tokens[p.start - 1] !== 'the') claims.push(stated(p));
        i = p.end;
      }
    }
  }
  return { claims, relations, ...(count !== undefined ? { count } : {}) };
}

function looksLike(o: SceneObject, s: StatedObject): boolean {
  return o.color === s.color && o.shape === s.shape && (s.size === undefined || o.size === s.size);
}

/**
 * Verdicts in two passes. First every claim an object at its cell satisfies is correct, and
 * that object is accounted for. Then, in text order, a wrong claim is:
 * - relationship: an object not yet accounted for matches every stated attribute at another
 *   cell (it is accounted for now);
 * - attribute: the object at the claimed cell has the stated shape (colour or size differs), or
 *   an object not accounted for has the stated colour + shape at another size;
 * - existence: otherwise (also an extra copy of an object already described).
 * A claim without a cell is correct if any object matches, attribute if only the size differs.
 */
function judgeClaims(scene: Scene, claims: ParsedClaim[]): ObjectClaimCheck[] {
  const objs = scene.objects;
  const used = new Set<number>();
  const out: (ObjectClaimCheck | undefined)[] = claims.map((c) => {
    if (c.cell === undefined) return undefined;
    const at = objs.findIndex((o) => o.cell === c.cell);
    if (at < 0 || !looksLike(objs[at]!, c)) return undefined;
    used.add(at);
    return { ...c, verdict: 'correct', referent: at };
  });
  const free = (k: number) => !used.has(k);
  return claims.map((c, i) => {
    if (out[i]) return out[i]!;
    const sameCategory = (o: SceneObject) => o.color === c.color && o.shape === c.shape;
    if (c.cell === undefined) {
      const exact = objs.findIndex((o) => looksLike(o, c));
      if (exact >= 0) return { ...c, verdict: 'correct', referent: exact };
      const sized = objs.findIndex(sameCategory);
      return sized >= 0 ? { ...c, verdict: 'attribute', referent: sized } : { ...c, verdict: 'existence' };
    }
    const moved = objs.findIndex((o, k) => free(k) && o.cell !== c.cell && looksLike(o, c));
    if (moved >= 0) {
      used.add(moved);
      return { ...c, verdict: 'relationship', referent: moved };
    }
    const at = objs.findIndex((o) => o.cell === c.cell && o.shape === c.shape);
    if (at >= 0) return { ...c, verdict: 'attribute', referent: at };
    const resized = objs.findIndex((o, k) => free(k) && sameCategory(o));
    if (resized >= 0) return { ...c, verdict: 'attribute', referent: resized };
    return { ...c, verdict: 'existence' };
  });
}

/**
 * A relation sentence refers back to objects the text introduced: a name resolves to the
 * referent of the first claim that reads like it (the object name is taken from a claim with a
 * different referent than the subject's), else to the first scene object that looks like it.
 * A name whose claim was an existence hallucination, or two names for one object, leave the
 * sentence unresolved: there is no pair whose relation could be checked.
 */
function judgeRelation(scene: Scene, objects: ObjectClaimCheck[], r: ParsedRelation): RelationClaimCheck {
  const resolve = (name: StatedObject, other?: number): number | undefined => {
    const sameName = (c: StatedObject) => c.color === name.color && c.shape === name.shape && (name.size === undefined || c.size === undefined || c.size === name.size);
    const claimed = objects.filter(sameName);
    if (claimed.length > 0) return (other === undefined ? claimed[0] : claimed.find((c) => c.referent !== other))?.referent;
    const k = scene.objects.findIndex((o, i) => i !== other && looksLike(o, name));
    return k >= 0 ? k : undefined;
  };
  const a = resolve(r.subject);
  const b = a === undefined ? undefined : resolve(r.object, a);
  if (a === undefined || b === undefined || a === b) return { ...r, verdict: 'unresolved' };
  return { ...r, verdict: holds(scene.objects[a]!, r.relation, scene.objects[b]!) ? 'true' : 'false' };
}

/**
 * Every claim of a detailed description (or caption) checked against the scene.
 *
 *   checkDescription(scene, 'there is one object in the image . a small blue circle is at the top left .')
 *   // scene: a small red circle at the top left -> { claims: 1, attribute: 1, existence: 0, relationship: 0, ... }
 */
export function checkDescription(scene: Scene, text: string): DescriptionCheck {
  const parsed = parse(text);
  const objects = judgeClaims(scene, parsed.claims);
  const relationChecks = parsed.relations.map((r) => judgeRelation(scene, objects, r));
  const judged = relationChecks.filter((r) => r.verdict !== 'unresolved');
  const falseRelations = judged.filter((r) => r.verdict === 'false').length;
  const kindCount = (k: HallucinationKind) => objects.filter((o) => o.verdict === k).length;
  return {
    claims: objects.length + judged.length,
    existence: kindCount('existence'),
    attribute: kindCount('attribute'),
    relationship: kindCount('relationship') + falseRelations,
    relations: judged.length,
    falseRelations,
    ...(parsed.count !== undefined ? { count: { stated: parsed.count, actual: scene.objects.length } } : {}),
    objects,
    relationChecks,
  };
}
