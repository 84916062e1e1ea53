import type { Rng } from '@mllm/core';
import { COLORS, SHAPES, SIZES } from './scene';
import type { Color, Scene, SceneObject, Shape } from './scene';
import { NUMBER_WORDS } from './language';

/**
 * Interleaved image-text sequences from the Shapes world and the few-shot tasks they prepare a
 * model for (multimodal in-context learning; Flamingo, arXiv:2204.14198, trained on interleaved
 * web pages; OpenFlamingo on MMC4). A sequence is several (image, question, answer) pairs whose
 * answers follow a label mapping drawn anew for each sequence: the answer to "what word goes
 * with the circle ?" is the word the sequence maps the circle's colour to, so after the first
 * pairs it can only be read from the context. Chan et al. 2022 ("Data distributional properties
 * drive emergent in-context learning") find that this, together with bursty sequences (few
 * classes, each seen several times), is what makes in-context learning emerge rather than
 * in-weights memorisation.
 */

/** One (image, question, answer) pair of a sequence; the image is the scene's. */
export interface InterleavedPair {
  sceneId: string;
  question: string;
  answer: string;
}

/** Which attribute of the named object a mapping reads; `size` only in the held-out `size-word` task. */
type MappedAttribute = 'color' | 'shape' | 'size';

/**
 * Words training sequences map attributes to: every word of the world's own language (colours,
 * shapes, sizes, cell and relation words, yes/no and the words of its prompts and questions, so
 * the default vocabulary already holds them), number words excepted. The held-out `color-number`
 * task maps colours to number words, which no training sequence ever uses as labels. Many label
 * words rather than the attribute words alone, so that what a model learns is to copy a label
 * the context shows rather than to pick among a few it knows (Chan et al. 2022: in-context
 * learning grows with the number of classes). Measured: with these 105 words, as with 32, a
 * model trained on them never answers with a number word it is shown
 * (docs/experiments/in-context-learning.md).
 */
export const INTERLEAVED_LABELS: readonly string[] = [
  ...COLORS,
  ...SHAPES,
  ...SIZES,
  ...['top', 'bottom', 'left', 'right', 'above', 'below', 'corner', 'position', 'yes', 'no', 'true', 'not'],
  ...['image', 'picture', 'object', 'objects', 'thing', 'things', 'shape', 'shapes', 'color', 'colour', 'size', 'kind', 'part', 'number'],
  ...['caption', 'description', 'detail', 'detailed', 'sentence', 'short', 'word', 'name'],
  ...['describe', 'write', 'see', 'tell', 'say', 'show', 'shown', 'shows', 'give', 'find', 'count', 'explain', 'summarize', 'call', 'contain', 'contains'],
  ...['appear', 'visible', 'present', 'drawn', 'placed', 'located', 'looking', 'big', 'only', 'every', 'everything', 'any', 'without'],
  ...['what', 'where', 'which', 'whether', 'how', 'many', 'is', 'are', 'do', 'does', 'can', 'cannot', 'would', 'has', 'have'],
  ...['there', 'this', 'that', 'it', 'me', 'we', 'you', 'with', 'for', 'in', 'of', 'at', 'or', 'and', 'an', 'a', 'the'],
];

/** Number words a model answers elsewhere ("how many objects are there ?"); "zero" never is, so it is left out. */
const HELD_OUT_LABELS: readonly string[] = NUMBER_WORDS.slice(1);

/** "what word goes with the circle ?": the colour of the only circle is the key. */
export function mappedColorQuestion(shape: Shape): string {
  return `what word goes with the ${shape} ?`;
}

/** "what word goes with the red one ?": the shape of the only red object is the key. */
export function mappedShapeQuestion(color: Color): string {
  return `what word goes with the ${color} one ?`;
}

/** Asked by the held-out `count-kind` task: the kind to count is shown only by the demonstrations. */
export const COUNT_KIND_QUESTION = 'how many ?';

/** An object that a question can name without ambiguity, with the key its mapping reads. */
interface Named {
  question: string;
  key: string;
}

/** The objects of a scene a question can name without ambiguity (by shape, or by colour for a shape key), with the key `attribute` reads. */
function nameable(scene: Scene, attribute: MappedAttribute): Named[] {
  const unique = (o: SceneObject, by: 'color' | 'shape') => scene.objects.filter((p) => p[by] === o[by]).length === 1;
  return attribute === 'shape'
    ? scene.objects.filter((o) => unique(o, 'color')).map((o) => ({ question: mappedShapeQuestion(o.color), key: o.shape }))
    : scene.objects.filter((o) => unique(o, 'shape')).map((o) => ({ question: mappedColorQuestion(o.shape), key: o[attribute] }));
}

/** A one-to-one map from `keys` to words drawn from `labels`. */
function drawMapping(keys: readonly string[], labels: readonly string[], rng: Rng): Map<string, string> {
  const words = rng.shuffle([...labels]);
  return new Map(keys.map((k, i) => [k, words[i]!]));
}

const MAX_DRAWS = 1000;

/** A random scene and one of its named objects whose key is in `keys`. */
function drawNamed(scenes: readonly Scene[], attribute: MappedAttribute, keys: readonly string[], rng: Rng, exclude?: string): { scene: Scene; named: Named } {
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const scene = scenes[rng.int(scenes.length)]!;
    if (scene.id === exclude) continue;
    const fits = nameable(scene, attribute).filter((n) => keys.includes(n.key));
    if (fits.length > 0) return { scene, named: rng.pick(fits) };
  }
  throw new Error(`interleaved data: no scene among ${scenes.length} names an object with ${attribute} ${keys.join(' or ')}; use more scenes`);
}

export interface InterleavedOptions {
  /** Pairs in the sequence (default 5: four demonstrations before the last). */
  pairs?: number;
  /**
   * Distinct keys a sequence draws its pairs from. Default: 2 (bursty: keys repeat, Chan et al.'s
   * condition for in-context learning to emerge) for half the sequences, every key for the other
   * half, as in a few-shot episode whose demonstrations are drawn at random.
   */
  keys?: number;
}

/**
 * One training sequence: `pairs` (image, question, answer) pairs about scenes of `scenes`, all
 * asking for the word the sequence maps the colour (or, for half the sequences, the shape) of a
 * named object to; the mapping is drawn for the sequence from INTERLEAVED_LABELS.
 */
export function interleavedSequence(scenes: readonly Scene[], rng: Rng, options: InterleavedOptions = {}): InterleavedPair[] {
  const pairs = options.pairs ?? 5;
  const attribute: MappedAttribute = rng.next() < 0.5 ? 'color' : 'shape';
  const values: readonly string[] = attribute === 'color' ? COLORS : SHAPES;
  const mapping = drawMapping(values, INTERLEAVED_LABELS, rng);
  const keys = options.keys ?? (rng.next() < 0.5 ? 2 : values.length);
  const active = rng.shuffle([...values]).slice(0, keys);
  return Array.from({ length: pairs }, () => {
    const { scene, named } = drawNamed(scenes, attribute, [rng.pick(active)], rng);
    return { sceneId: scene.id, question: named.question, answer: mapping.get(named.key)! };
  });
}

/**
 * The few-shot tasks. `color-word`: the colour of the named shape mapped to a word of
 * INTERLEAVED_LABELS (the format interleaved training shows, with a fresh mapping).
 * `size-word` (held out): the same question and labels, but the mapping reads the named
 * shape's size, an attribute no training sequence maps; only the demonstrations tell it from
 * `color-word`.
 * `color-number` (held out): colours mapped to the number words one..four, labels no training
 * sequence uses. `count-kind` (held out): "how many ?" answered with the number of objects of a
 * kind (a colour or a shape) that only the demonstrations reveal; never trained.
 */
export const FEW_SHOT_TASKS = ['color-word', 'size-word', 'color-number', 'count-kind'] as const;
export type FewShotTask = (typeof FEW_SHOT_TASKS)[number];

/**
 * A query with the demonstrations before it (as many as the largest shot count); fewer shots
 * take a prefix, or `byShots[k]` where the episode gives it.
 */
export interface FewShotEpisode extends InterleavedPair {
  demonstrations: InterleavedPair[];
  byShots?: Record<string, InterleavedPair[]>;
}

/**
 * One episode of `task`: a query about a scene of `scenes` and `shots` demonstrations about other
 * scenes of it, all under one mapping or kind drawn for the episode. For the mapping tasks every
 * k-shot prompt shows the query's key at least once (the label of a key no demonstration shows
 * is defined by nothing the model sees), at a random place among the k, and the other
 * demonstrations are drawn at random (Flamingo's protocol); `count-kind`'s are all random.
 */
export function fewShotEpisode(task: FewShotTask, scenes: readonly Scene[], rng: Rng, shots: number): FewShotEpisode {
  if (task === 'count-kind') return countKindEpisode(scenes, rng, shots);
  const attribute: MappedAttribute = task === 'size-word' ? 'size' : 'color';
  const keys: readonly string[] = attribute === 'size' ? SIZES : COLORS;
  const mapping = drawMapping(keys, task === 'color-number' ? HELD_OUT_LABELS : INTERLEAVED_LABELS, rng);
  /** A pair about a scene whose named object has one of `from` as its key, and that key. */
  const pair = (from: readonly string[], exclude?: string): { pair: InterleavedPair; key: string } => {
    const { scene, named } = drawNamed(scenes, attribute, from, rng, exclude);
    return { pair: { sceneId: scene.id, question: named.question, answer: mapping.get(named.key)! }, key: named.key };
  };
  const { pair: query, key } = pair(keys);
  const showsKey = pair([key], query.sceneId).pair;
  const others = Array.from({ length: Math.max(0, shots - 1) }, () => pair(keys, query.sceneId).pair);
  // every k-shot prompt shows the query's key once at least, at a random place among the k
  const byShots: Record<string, InterleavedPair[]> = {};
  for (let k = 1; k <= shots; k++) byShots[String(k)] = rng.shuffle([showsKey, ...others.slice(0, k - 1)]);
  return { ...query, demonstrations: shots > 0 ? byShots[String(shots)]! : [], byShots };
}

function countKindEpisode(scenes: readonly Scene[], rng: Rng, shots: number): FewShotEpisode {
  const kind: { color: Color } | { shape: Shape } = rng.next() < 0.5 ? { color: rng.pick(COLORS) } : { shape: rng.pick(SHAPES) };
  const count = (scene: Scene) => scene.objects.filter((o) => ('color' in kind ? o.color === kind.color : o.shape === kind.shape)).length;
  const withKind = scenes.filter((s) => count(s) > 0);
  if (withKind.length < 2) throw new Error(`interleaved data: fewer than 2 of ${scenes.length} scenes hold a ${'color' in kind ? kind.color : kind.shape} object; use more scenes`);
  const pair = (scene: Scene): InterleavedPair => ({ sceneId: scene.id, question: COUNT_KIND_QUESTION, answer: NUMBER_WORDS[count(scene)]! });
  const query = rng.pick(withKind);
  const others = withKind.filter((s) => s.id !== query.id);
  return { ...pair(query), demonstrations: Array.from({ length: shots }, () => pair(rng.pick(others))) };
}

/** Text for the word tokenizer of a run with interleaved data or a few-shot evaluation: every question form and label. */
export function interleavedCorpus(): string[] {
  return [
    ...SHAPES.map(mappedColorQuestion),
    ...COLORS.map(mappedShapeQuestion),
    COUNT_KIND_QUESTION,
    [...INTERLEAVED_LABELS, ...HELD_OUT_LABELS].join(' '),
  ];
}
