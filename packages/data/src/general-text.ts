import type { Rng } from '@mllm/core';
import { ALL_CATEGORIES, categoryOf, sceneCategories } from './scene';
import type { Scene, SceneObject } from './scene';
import { NUMBER_WORDS, RELATIONS, holds } from './language';
import { namedObjects } from './instruction-tasks';

/**
 * General text for LLM pre-training: true statements about a scene written with the words that
 * people use when they ask about images ("the colour of the square is red .", "we count three
 * things in the picture .", "the red circle is located left of the blue cross ."), never as a
 * question or an instruction.
 *
 * Why: a released LLM has read such words in trillions of tokens of web text before it meets
 * an instruction, so an instruction-tuned MLLM is asked held-out phrasings in words it knows.
 * The Shapes world's pre-training text (captions, descriptions, the original questions) uses
 * about 40 words; a held-out phrasing with a word outside them ("what colour is the square ?",
 * "count the objects in the image .") reaches the model as an embedding that no step has
 * trained, and it is answered at chance. These statements give every word of every closed-task
 * phrasing a meaning from context, as web text would, without showing any phrasing itself.
 */

type Statement = (scene: Scene, rng: Rng) => string | undefined;

/*
 * Web text writes one thing in several words, in the same contexts; that shared context is what
 * lets a model read one word as the other. So each statement draws its spelling and synonyms.
 */
const colorWord = (rng: Rng) => rng.pick(['color', 'colour']);
const imageWord = (rng: Rng) => rng.pick(['image', 'picture']);
const objectsWord = (rng: Rng) => rng.pick(['objects', 'things', 'shapes']);

const objects = (n: number, noun = 'objects') => `${NUMBER_WORDS[n]} ${n === 1 ? noun.replace(/s$/, '') : noun}`;

/** Objects whose shape (or colour) occurs once in the scene, so "the square" names one of them. */
const uniqueBy = (scene: Scene, key: 'shape' | 'color') => scene.objects.filter((o) => scene.objects.filter((p) => p[key] === o[key]).length === 1);

function pickOr(rng: Rng, list: readonly SceneObject[]): SceneObject | undefined {
  return list.length > 0 ? rng.pick(list) : undefined;
}

function absentCategory(scene: Scene, rng: Rng): string {
  const present = sceneCategories(scene);
  return rng.pick(ALL_CATEGORIES.filter((c) => !present.includes(c)));
}

function relationPair(scene: Scene, rng: Rng, truth: boolean): { a: string; relation: string; b: string } | undefined {
  const named = namedObjects(scene);
  if (named.length < 2) return undefined;
  const [a, b] = rng.shuffle(named);
  const relations = RELATIONS.filter((r) => holds(a!, r, b!) === truth);
  if (relations.length === 0) return undefined;
  return { a: categoryOf(a!), relation: rng.pick(relations), b: categoryOf(b!) };
}

const COUNT: Statement[] = [
  (s, r) => `the ${imageWord(r)} shows ${objects(s.objects.length, objectsWord(r))} .`,
  (s, r) => `this ${imageWord(r)} contains ${objects(s.objects.length, objectsWord(r))} .`,
  (s, r) => `we count ${objects(s.objects.length, objectsWord(r))} in the ${imageWord(r)} .`,
  (s, r) => `the number of ${objectsWord(r)} in the ${imageWord(r)} is ${NUMBER_WORDS[s.objects.length]} .`,
  (s, r) => `the count of ${objectsWord(r)} is ${NUMBER_WORDS[s.objects.length]} .`,
  (s, r) => `you can see ${objects(s.objects.length, objectsWord(r))} .`,
];

const COLOUR: Statement[] = [
  (s, r) => ((o) => o && `the ${colorWord(r)} of the ${o.shape} is ${o.color} .`)(pickOr(r, uniqueBy(s, 'shape'))),
  (s, r) => ((o) => o && `the ${o.shape} is drawn in ${o.color} .`)(pickOr(r, uniqueBy(s, 'shape'))),
  (s, r) => ((o) => o && `the ${o.shape} has the ${colorWord(r)} ${o.color} .`)(pickOr(r, uniqueBy(s, 'shape'))),
  (s, r) => ((o) => o && `the ${o.shape} does have a ${o.color} ${colorWord(r)} .`)(pickOr(r, uniqueBy(s, 'shape'))),
  (s, r) => ((o) => o && `the ${o.shape} , which is ${o.color} , is in the ${o.cell} corner .`)(pickOr(r, uniqueBy(s, 'shape'))),
  (s, r) => ((o) => o && `the ${imageWord(r)} can tell me that the ${o.shape} is ${o.color} .`)(pickOr(r, uniqueBy(s, 'shape'))),
];

const EXISTENCE: Statement[] = [
  (s, r) => `a ${r.pick(sceneCategories(s))} is present in the ${imageWord(r)} .`,
  (s, r) => `a ${r.pick(sceneCategories(s))} is visible in the ${imageWord(r)} .`,
  (s, r) => `the ${imageWord(r)} does show a ${r.pick(sceneCategories(s))} .`,
  (s, r) => `the ${imageWord(r)} does not contain any ${absentCategory(s, r)} .`,
  (s, r) => `you do not see a ${absentCategory(s, r)} in the ${imageWord(r)} .`,
];

const SPATIAL: Statement[] = [
  (s, r) => ((p) => p && `the ${p.a} is located ${p.relation} the ${p.b} .`)(relationPair(s, r, true)),
  (s, r) => ((p) => p && `the ${p.a} does appear ${p.relation} the ${p.b} .`)(relationPair(s, r, true)),
  (s, r) => ((p) => p && `it is true that the ${p.a} is ${p.relation} the ${p.b} .`)(relationPair(s, r, true)),
  (s, r) => ((p) => p && `one would say that the ${p.a} is placed ${p.relation} the ${p.b} .`)(relationPair(s, r, true)),
  (s, r) => ((p) => p && `looking at the ${imageWord(r)} , the ${p.a} is ${p.relation} the ${p.b} .`)(relationPair(s, r, true)),
  (s, r) => ((p) => p && `it is not true that the ${p.a} is ${p.relation} the ${p.b} .`)(relationPair(s, r, false)),
  (s, r) => ((p) => p && `we cannot say whether the ${p.a} is ${p.relation} the ${p.b} without the picture .`)(relationPair(s, r, r.next() < 0.5)),
];

const SHAPE: Statement[] = [
  (s, r) => ((o) => o && `the ${o.color} object is a ${o.shape} .`)(pickOr(r, uniqueBy(s, 'color'))),
  (s, r) => ((o) => o && `the shape of the ${o.color} object is a ${o.shape} .`)(pickOr(r, uniqueBy(s, 'color'))),
  (s, r) => ((o) => o && `the kind of shape that has the ${colorWord(r)} ${o.color} is a ${o.shape} .`)(pickOr(r, uniqueBy(s, 'color'))),
  (s, r) => ((o) => o && `we name the ${o.color} object a ${o.shape} .`)(pickOr(r, uniqueBy(s, 'color'))),
];

const SIZE: Statement[] = [
  (s, r) => ((o) => o && `the size of the ${categoryOf(o)} is ${o.size} .`)(pickOr(r, namedObjects(s))),
  (s, r) => ((o) => o && `the ${categoryOf(o)} is ${o.size === 'large' ? '' : 'not '}big .`)(pickOr(r, namedObjects(s))),
  (s, r) => ((o) => o && `an object is small or large , and the ${categoryOf(o)} is ${o.size} .`)(pickOr(r, namedObjects(s))),
  (s, r) => ((o) => o && `one would call the ${categoryOf(o)} ${o.size} .`)(pickOr(r, namedObjects(s))),
];

const POSITION: Statement[] = [
  (s, r) => ((o) => o && `the position of the ${categoryOf(o)} is the ${o.cell} .`)(pickOr(r, namedObjects(s))),
  (s, r) => ((o) => o && `you can find the ${categoryOf(o)} at the ${o.cell} .`)(pickOr(r, namedObjects(s))),
  (s, r) => ((o) => o && `the ${categoryOf(o)} is located in the ${o.cell} part of the ${imageWord(r)} .`)(pickOr(r, namedObjects(s))),
  (s, r) => ((o) => o && `the ${categoryOf(o)} is in the ${o.cell} corner , where you see it .`)(pickOr(r, namedObjects(s))),
];

/** Every statement family, each a list of templates; a text draws families, then a template. */
export const GENERAL_TEXT_FAMILIES: Readonly<Record<string, readonly Statement[]>> = {
  count: COUNT,
  colour: COLOUR,
  existence: EXISTENCE,
  spatial: SPATIAL,
  shape: SHAPE,
  size: SIZE,
  position: POSITION,
};

/**
 * `statements` true statements about `scene` (three by default), each from a family and
 * template drawn with `rng`; a template the scene cannot fill (no object with a unique shape,
 * fewer than two named objects) is passed over for another.
 */
export function generalText(scene: Scene, rng: Rng, statements = 3): string {
  const families = Object.values(GENERAL_TEXT_FAMILIES);
  const out: string[] = [];
  for (let tries = 0; out.length < statements && tries < statements * 20; tries++) {
    const sentence = rng.pick(rng.pick(families))(scene, rng);
    if (sentence) out.push(sentence);
  }
  return out.join(' ');
}

/**
 * Every template filled for each of `scenes` (with its own fixed draws): the words general text
 * can use, for the tokenizer to learn before training.
 */
export function generalTextCorpus(scenes: readonly Scene[], rng: Rng): string[] {
  return scenes.flatMap((scene) => Object.values(GENERAL_TEXT_FAMILIES).flatMap((family) => family.map((statement) => statement(scene, rng) ?? '')).filter(Boolean));
}
