import type { Rng } from '@mllm/core';
import { ALL_CATEGORIES, COLORS, SHAPES, categoryOf, sceneCategories } from './scene';
import type { ObjectCategory, Scene } from './scene';
import { NUMBER_WORDS } from './language';

/**
 * A coarse "web" caption source for the Shapes world, as alt-text is beside curated captions:
 * short (colour and shape only, no size or position), and with a known share of noise that
 * is either wrong about the image (a colour, a shape or the count) or unrelated to it (another
 * image's alt-text, or generic page text). Every pair carries its ground-truth label, so a
 * filter can be scored against it. Schuhmann et al. (LAION-400M, arXiv:2111.02114) describe the
 * source; Yin et al.'s survey (arXiv:2306.13549, section 3.1) the coarse/fine-grained split.
 */

export type WebCaptionLabel = 'clean' | 'wrong' | 'unrelated';
export const WEB_CAPTION_LABELS: readonly WebCaptionLabel[] = ['clean', 'wrong', 'unrelated'];

/** How a noisy caption went wrong: an attribute or the count of the image, or no relation to it. */
export type WebNoiseKind = 'color' | 'shape' | 'count' | 'other-scene' | 'generic';

export interface WebCaptionPair {
  /** The scene whose image the caption stands beside. */
  scene: Scene;
  caption: string;
  label: WebCaptionLabel;
  /** Absent for clean pairs. */
  kind?: WebNoiseKind;
}

export interface WebCaptionOptions {
  /** Share of pairs whose caption is noise (wrong or unrelated), drawn per pair. */
  noise: number;
  /** Share of the noisy pairs that are wrong about their image; the rest are unrelated (default 0.5). */
  wrongShare?: number;
}

/** Page text that appears as alt-text whatever the image shows. */
export const GENERIC_ALT_TEXTS = [
  'photo .',
  'untitled image .',
  'click here to enlarge .',
  'free stock photo .',
  'download the wallpaper .',
  'view more pictures .',
  'my new post .',
  'image of the day .',
] as const;

/** Every word the web captions use beyond the world's own language, for a word tokenizer. */
export function webCaptionCorpus(): string[] {
  return [...GENERIC_ALT_TEXTS, ...NUMBER_WORDS.map((n) => `${n} objects , ${n} object ,`)];
}

/** "a red circle" per category, joined alt-text style: "a red circle , a blue square and a green cross". */
function listCategories(categories: readonly ObjectCategory[]): string {
  const items = categories.map((c) => `a ${c}`);
  return items.length === 1 ? items[0]! : `${items.slice(0, -1).join(' , ')} and ${items.at(-1)}`;
}

/**
 * Alt-text of a list of objects (colour + shape), in a random order, half the time after a
 * count: "two objects , a blue square and a red circle ." The count counts the listed objects.
 */
function altText(categories: readonly ObjectCategory[], rng: Rng): string {
  const listed = listCategories(rng.shuffle(categories));
  if (rng.next() < 0.5) return `${listed} .`;
  const n = categories.length;
  return `${NUMBER_WORDS[n]} ${n === 1 ? 'object' : 'objects'} , ${listed} .`;
}

/** The objects of a scene as a caption names them: one category per object, repeats kept. */
const objectCategories = (scene: Scene): ObjectCategory[] => scene.objects.map(categoryOf);

/** A clean web caption: every object by colour and shape, nothing else. */
export function webCaption(scene: Scene, rng: Rng): string {
  return altText(objectCategories(scene), rng);
}

/**
 * A caption that is wrong about its image: one object's colour or shape changed to a category
 * the scene does not hold, or (`count`) one object too many, of a category the scene does not hold.
 */
export function wrongWebCaption(scene: Scene, rng: Rng): { caption: string; kind: 'color' | 'shape' | 'count' } {
  const present = new Set(sceneCategories(scene));
  const categories = objectCategories(scene);
  const picked = rng.pick(['color', 'shape', 'count'] as const);
  if (picked === 'count') return { caption: altText([...categories, rng.pick(ALL_CATEGORIES.filter((c) => !present.has(c)))], rng), kind: picked };
  const k = rng.int(categories.length);
  const swapsOf = (kind: 'color' | 'shape'): ObjectCategory[] => {
    const [color, shape] = categories[k]!.split(' ');
    const swaps = kind === 'color' ? COLORS.map((c) => `${c} ${shape}`) : SHAPES.map((s) => `${color} ${s}`);
    return (swaps as ObjectCategory[]).filter((c) => !present.has(c));
  };
  // four circles of the four colours leave no absent colour for a circle, but every absent shape
  const kind = swapsOf(picked).length > 0 ? picked : picked === 'color' ? 'shape' : 'color';
  categories[k] = rng.pick(swapsOf(kind));
  return { caption: altText(categories, rng), kind };
}

/**
 * An unrelated caption: half the time the clean alt-text of another scene of the pool whose
 * object categories differ from this one's, else generic page text.
 */
export function unrelatedWebCaption(scene: Scene, pool: readonly Scene[], rng: Rng): { caption: string; kind: 'other-scene' | 'generic' } {
  if (rng.next() < 0.5) {
    const own = sceneCategories(scene).sort().join('|');
    // a few tries: in a pool of more than a handful of scenes nearly every other scene differs
    for (let attempt = 0; attempt < 20; attempt++) {
      const other = pool[rng.int(pool.length)]!;
      if (sceneCategories(other).sort().join('|') !== own) return { caption: webCaption(other, rng), kind: 'other-scene' };
    }
  }
  return { caption: rng.pick(GENERIC_ALT_TEXTS), kind: 'generic' };
}

/**
 * One web caption per scene, in the scenes' order. Each pair is noise with probability `noise`
 * (then wrong with probability `wrongShare`, else unrelated), so the pool's noise share is
 * `noise` up to sampling error: about sqrt(noise (1 - noise) / n).
 */
export function webCaptionPool(scenes: readonly Scene[], rng: Rng, options: WebCaptionOptions): WebCaptionPair[] {
  const { noise, wrongShare = 0.5 } = options;
  if (!(noise >= 0 && noise <= 1)) throw new Error(`webCaptionPool: noise must be in [0, 1], got ${noise}`);
  if (!(wrongShare >= 0 && wrongShare <= 1)) throw new Error(`webCaptionPool: wrongShare must be in [0, 1], got ${wrongShare}`);
  return scenes.map((scene): WebCaptionPair => {
    if (rng.next() >= noise) return { scene, caption: webCaption(scene, rng), label: 'clean' };
    if (rng.next() < wrongShare) return { scene, label: 'wrong', ...wrongWebCaption(scene, rng) };
    return { scene, label: 'unrelated', ...unrelatedWebCaption(scene, scenes, rng) };
  });
}
