import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { ShapesWorld } from './shapes-world';
import { categoryOf, sceneCategories } from './scene';
import type { Scene } from './scene';
import { NUMBER_WORDS, parseMentions } from './language';
import { GENERIC_ALT_TEXTS, webCaption, webCaptionCorpus, webCaptionPool, wrongWebCaption } from './web-captions';

const world = new ShapesWorld({ seed: 3, sizes: { train: 4000, val: 1, test: 1 } });
const scenes = world.scenes('train');

const sorted = (xs: readonly string[]) => [...xs].sort();
/** The count word a caption opens with ("two objects , ..."), or undefined. */
function statedCount(caption: string): number | undefined {
  const first = caption.split(' ')[0]!;
  const n = (NUMBER_WORDS as readonly string[]).indexOf(first);
  return n >= 0 && /^\w+ objects? ,/.test(caption) ? n : undefined;
}

describe('webCaptionPool', () => {
  it('makes the asked share of noise, split between wrong and unrelated as asked (within 4 standard errors)', () => {
    for (const [noise, wrongShare] of [
      [0.4, 0.5],
      [0.2, 0.75],
    ] as const) {
      const pool = webCaptionPool(scenes, new Rng(1), { noise, wrongShare });
      const n = pool.length;
      const noisy = pool.filter((p) => p.label !== 'clean').length;
      expect(Math.abs(noisy / n - noise)).toBeLessThan(4 * Math.sqrt((noise * (1 - noise)) / n));
      const wrong = pool.filter((p) => p.label === 'wrong').length;
      expect(Math.abs(wrong / noisy - wrongShare)).toBeLessThan(4 * Math.sqrt((wrongShare * (1 - wrongShare)) / noisy));
    }
  });

  it('gives every pair a label its caption bears out against the scene', () => {
    const pool = webCaptionPool(scenes, new Rng(2), { noise: 0.5 });
    const kinds = new Set<string>();
    for (const { scene, caption, label, kind } of pool) {
      const mentioned = parseMentions(caption);
      const truth = scene.objects.map(categoryOf);
      const absent = mentioned.filter((c) => !sceneCategories(scene).includes(c));
      const count = statedCount(caption);
      if (label === 'clean') {
        expect(kind).toBeUndefined();
        expect(sorted(mentioned)).toEqual(sorted(truth));
        if (count !== undefined) expect(count).toBe(scene.objects.length);
        continue;
      }
      kinds.add(kind!);
      if (label === 'wrong') {
        // exactly one object mention names a category the image does not hold
        expect(absent).toHaveLength(1);
        expect(mentioned).toHaveLength(kind === 'count' ? truth.length + 1 : truth.length);
        if (count !== undefined) expect(count).toBe(mentioned.length);
      } else if (kind === 'generic') {
        expect(GENERIC_ALT_TEXTS).toContain(caption);
      } else {
        expect(kind).toBe('other-scene');
        expect(sorted([...new Set(mentioned)])).not.toEqual(sorted(sceneCategories(scene)));
      }
    }
    expect(sorted([...kinds])).toEqual(['color', 'count', 'generic', 'other-scene', 'shape']);
  });

  it('is all clean at noise 0 and all noise at noise 1, and the same for the same stream', () => {
    expect(webCaptionPool(scenes.slice(0, 200), new Rng(4), { noise: 0 }).every((p) => p.label === 'clean')).toBe(true);
    expect(webCaptionPool(scenes.slice(0, 200), new Rng(4), { noise: 1 }).every((p) => p.label !== 'clean')).toBe(true);
    const a = webCaptionPool(scenes.slice(0, 50), new Rng(5), { noise: 0.4 });
    const b = webCaptionPool(scenes.slice(0, 50), new Rng(5), { noise: 0.4 });
    expect(b.map((p) => p.caption)).toEqual(a.map((p) => p.caption));
  });

  it('refuses a noise share outside [0, 1]', () => {
    expect(() => webCaptionPool(scenes, new Rng(0), { noise: 1.5 })).toThrow(/noise must be in \[0, 1\], got 1.5/);
    expect(() => webCaptionPool(scenes, new Rng(0), { noise: 0.5, wrongShare: -1 })).toThrow(/wrongShare/);
  });
});

describe('web captions', () => {
  it('are short alt-text: colour and shape only, words the corpus lists or the world already has', () => {
    const scene = scenes.find((s) => s.objects.length === 3)!;
    const caption = webCaption(scene, new Rng(0));
    expect(caption).not.toMatch(/small|large|top|bottom|left|right/);
    expect(caption.split(' ').length).toBeLessThan(16);
    const words = new Set(webCaptionCorpus().join(' ').split(' '));
    for (const w of GENERIC_ALT_TEXTS.join(' ').split(' ')) expect(words.has(w)).toBe(true);
  });

  it('finds an absent category even when every colour of a shape is in the scene', () => {
    const circles: Scene = {
      id: 'x',
      objects: (['red', 'green', 'blue', 'yellow'] as const).map((color, i) => ({ ...scenes[0]!.objects[0]!, shape: 'circle', color, cell: (['top left', 'top right', 'bottom left', 'bottom right'] as const)[i]! })),
    };
    for (let seed = 0; seed < 30; seed++) {
      const { caption, kind } = wrongWebCaption(circles, new Rng(seed));
      const absent = parseMentions(caption).filter((c) => !sceneCategories(circles).includes(c));
      expect(absent, `${kind}: ${caption}`).toHaveLength(1);
    }
  });
});
