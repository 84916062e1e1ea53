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

function absentCategory(scene: Scene, rng: Rng): string {
  const present = sceneCategories(scene);
  return rng.pick(ALL_CATEGORIES.filter((c) => !present.includes(c)));
}

/** A statement about one object of `pool(scene)`, drawn first; none when the pool is empty. */
function about(pool: (scene: Scene) => readonly SceneObject[], write: (o: SceneObject, rng: Rng) => string): Statement {
  return (scene, rng) => {
    const candidates = pool(scene);
    return candidates.length > 0 ? write(rng.pick(candidates), rng) : undefined;
  };
}

/** A statement about two named objects and a relation that holds (or not) between them; none when the scene has no such pair. */
function relating(truth: (rng: Rng) => boolean, write: (pair: { a: string; relation: string; b: string }, rng: Rng) => string): Statement {
  return (scene, rng) => {
    const named = namedObjects(scene);
    const holdsWanted = truth(rng);
    if (named.length < 2) return undefined;
    const [a, b] = rng.shuffle(named);
    const relations = RELATIONS.filter((r) => holds(a!, r, b!) === holdsWanted);
    if (relations.length === 0) return undefined;
    return write({ a: categoryOf(a!), relation: rng.pick(relations), b: categoryOf(b!) }, rng);
  };
}

const shapeOnce = (scene: Scene) => uniqueBy(scene, 'shape');
const colorOnce = (scene: Scene) => uniqueBy(scene, 'color');
const always = () => true;
const never = () => false;

const COUNT: Statement[] = [
  (s, r) => `the ${imageWord(r)} shows ${objects(s.objects.length, objectsWord(r))} .`,
  (s, r) => `this ${imageWord(r)} contains ${objects(s.objects.length, objectsWord(r))} .`,
  (s, r) => `we count ${objects(s.objects.length, objectsWord(r))} in the ${imageWord(r)} .`,
  (s, r) => `the number of ${objectsWord(r)} in the ${imageWord(r)} is ${NUMBER_WORDS[s.objects.length]} .`,
  (s, r) => `the count of ${objectsWord(r)} is ${NUMBER_WORDS[s.objects.length]} .`,
  (s, r) => `you can see ${objects(s.objects.length, objectsWord(r))} .`,
];

const COLOUR: Statement[] = [
  about(shapeOnce, (o, r) => `the ${colorWord(r)} of the ${o.shape} is ${o.color} .`),
  about(shapeOnce, (o) => `the ${o.shape} is drawn in ${o.color} .`),
  about(shapeOnce, (o, r) => `the ${o.shape} has the ${colorWord(r)} ${o.color} .`),
  about(shapeOnce, (o, r) => `the ${o.shape} does have a ${o.color} ${colorWord(r)} .`),
  about(shapeOnce, (o) => `the ${o.shape} , which is ${o.color} , is in the ${o.cell} corner .`),
  about(shapeOnce, (o, r) => `the ${imageWord(r)} can tell me that the ${o.shape} is ${o.color} .`),
];

const EXISTENCE: Statement[] = [
  (s, r) => `a ${r.pick(sceneCategories(s))} is present in the ${imageWord(r)} .`,
  (s, r) => `a ${r.pick(sceneCategories(s))} is visible in the ${imageWord(r)} .`,
  (s, r) => `the ${imageWord(r)} does show a ${r.pick(sceneCategories(s))} .`,
  (s, r) => `the ${imageWord(r)} does not contain any ${absentCategory(s, r)} .`,
  (s, r) => `you do not see a ${absentCategory(s, r)} in the ${imageWord(r)} .`,
];

const SPATIAL: Statement[] = [
  relating(always, (p) => `the ${p.a} is located ${p.relation} the ${p.b} .`),
  relating(always, (p) => `the ${p.a} does appear ${p.relation} the ${p.b} .`),
  relating(always, (p) => `it is true that the ${p.a} is ${p.relation} the ${p.b} .`),
  relating(always, (p) => `one would say that the ${p.a} is placed ${p.relation} the ${p.b} .`),
  relating(always, (p, r) => `looking at the ${imageWord(r)} , the ${p.a} is ${p.relation} the ${p.b} .`),
  relating(never, (p) => `it is not true that the ${p.a} is ${p.relation} the ${p.b} .`),
  relating((r) => r.next() < 0.5, (p) => `we cannot say whether the ${p.a} is ${p.relation} the ${p.b} without the picture .`),
];

const SHAPE: Statement[] = [
  about(colorOnce, (o) => `the ${o.color} object is a ${o.shape} .`),
  about(colorOnce, (o) => `the shape of the ${o.color} object is a ${o.shape} .`),
  about(colorOnce, (o, r) => `the kind of shape that has the ${colorWord(r)} ${o.color} is a ${o.shape} .`),
  about(colorOnce, (o) => `we name the ${o.color} object a ${o.shape} .`),
];

const SIZE: Statement[] = [
  about(namedObjects, (o) => `the size of the ${categoryOf(o)} is ${o.size} .`),
  about(namedObjects, (o) => `the ${categoryOf(o)} is ${o.size === 'large' ? '' : 'not '}big .`),
  about(namedObjects, (o) => `an object is small or large , and the ${categoryOf(o)} is ${o.size} .`),
  about(namedObjects, (o) => `one would call the ${categoryOf(o)} ${o.size} .`),
];

const POSITION: Statement[] = [
  about(namedObjects, (o) => `the position of the ${categoryOf(o)} is the ${o.cell} .`),
  about(namedObjects, (o) => `you can find the ${categoryOf(o)} at the ${o.cell} .`),
  about(namedObjects, (o, r) => `the ${categoryOf(o)} is located in the ${o.cell} part of the ${imageWord(r)} .`),
  about(namedObjects, (o) => `the ${categoryOf(o)} is in the ${o.cell} corner , where you see it .`),
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
