import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { categoryStats, popeQuestions } from './pope';
import type { PopeQuestion, PopeSampling } from './pope';
import { ShapesWorld } from './shapes-world';
import { sceneCategories } from './scene';

const world = new ShapesWorld({ seed: 9, sizes: { train: 2000, val: 0, test: 300 } });
const test = world.scenes('test');
const run = (sampling: PopeSampling) => popeQuestions(test, { sampling, rng: new Rng(1), stats: world.stats });

describe('categoryStats', () => {
  it('counts scenes per category and pairwise co-occurrence', () => {
    const s = categoryStats([
      { id: 'a', objects: [{ shape: 'circle', color: 'red', size: 'small', cell: 'top left', x: 8, y: 8 }, { shape: 'square', color: 'blue', size: 'small', cell: 'top right', x: 24, y: 8 }] },
      { id: 'b', objects: [{ shape: 'circle', color: 'red', size: 'large', cell: 'top left', x: 8, y: 8 }, { shape: 'circle', color: 'red', size: 'small', cell: 'top right', x: 24, y: 8 }] },
    ]);
    expect(s.scenes).toBe(2);
    expect(s.frequency['red circle']).toBe(2);
    expect(s.frequency['blue square']).toBe(1);
    expect(s.cooccurrence['red circle']['blue square']).toBe(1);
    expect(s.cooccurrence['red circle']['red circle']).toBe(0);
  });
});

describe('popeQuestions', () => {
  it('is balanced, labels are ground truth, at most perImage per image', () => {
    for (const sampling of ['random', 'popular', 'adversarial'] as const) {
      const qs = run(sampling);
      expect(qs.filter((q) => q.label === 'yes').length).toBe(qs.filter((q) => q.label === 'no').length);
      const byScene = new Map<string, PopeQuestion[]>();
      for (const q of qs) byScene.set(q.sceneId, [...(byScene.get(q.sceneId) ?? []), q]);
      expect(byScene.size).toBe(test.length);
      for (const scene of test) {
        const present = sceneCategories(scene);
        const mine = byScene.get(scene.id)!;
        expect(mine.length).toBe(2 * Math.min(3, present.length));
        expect(new Set(mine.map((q) => q.category)).size).toBe(mine.length);
        for (const q of mine) {
          expect(q.label).toBe(present.includes(q.category) ? 'yes' : 'no');
          expect(q.question).toBe(`is there a ${q.category} in the image ?`);
        }
      }
    }
  });

  it('popular negatives are more frequent, adversarial negatives co-occur more, than random', () => {
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const freq = (qs: PopeQuestion[]) => mean(qs.filter((q) => q.label === 'no').map((q) => world.stats.frequency[q.category]));
    const scenes = new Map(test.map((s) => [s.id, sceneCategories(s)]));
    const cooc = (qs: PopeQuestion[]) =>
      mean(
        qs
          .filter((q) => q.label === 'no')
          .map((q) => scenes.get(q.sceneId)!.reduce((s, p) => s + world.stats.cooccurrence[p][q.category], 0)),
      );
    const [random, popular, adversarial] = [run('random'), run('popular'), run('adversarial')];
    expect(freq(popular)).toBeGreaterThan(1.3 * freq(random));
    expect(cooc(adversarial)).toBeGreaterThan(1.3 * cooc(random));
    expect(cooc(adversarial)).toBeGreaterThan(cooc(popular));
  });

  it('needs stats for popular/adversarial and an even perImage', () => {
    expect(() => popeQuestions(test, { sampling: 'popular', rng: new Rng(1) })).toThrow(/categoryStats/);
    expect(() => popeQuestions(test, { sampling: 'random', rng: new Rng(1), perImage: 5 })).toThrow(/even/);
  });
});
