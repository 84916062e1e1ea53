import { describe, expect, it } from 'vitest';
import { ShapesWorld, SPLITS } from './shapes-world';
import { sceneSignature } from './scene';
import { caption, detailedDescription } from './language';

const sizes = { train: 300, val: 50, test: 50 };

describe('ShapesWorld', () => {
  it('is deterministic: same seed, same scenes and images', () => {
    const a = new ShapesWorld({ seed: 42, sizes });
    const b = new ShapesWorld({ seed: 42, sizes });
    for (const split of SPLITS) expect(a.scenes(split)).toEqual(b.scenes(split));
    expect(a.image('test-3')).toEqual(b.image('test-3'));
    expect(a.image('test-3')).toBe(a.image('test-3')); // cached
    expect(new ShapesWorld({ seed: 43, sizes }).scenes('train')).not.toEqual(a.scenes('train'));
  });

  it('has disjoint splits by scene signature and the requested sizes', () => {
    const w = new ShapesWorld({ seed: 1, sizes: { train: 2000, val: 200, test: 200 } });
    const seen = new Map<string, string>();
    for (const split of SPLITS) {
      expect(w.scenes(split)).toHaveLength(w.scenes(split) === w.scenes('train') ? 2000 : 200);
      for (const s of w.scenes(split)) {
        expect(seen.has(sceneSignature(s)), `${s.id} repeats ${seen.get(sceneSignature(s))}`).toBe(false);
        seen.set(sceneSignature(s), s.id);
      }
    }
  });

  it('renders at the configured size and exposes train stats', () => {
    const w = new ShapesWorld({ seed: 2, imageSize: 48, sizes });
    expect(w.image('val-0').length).toBe(48 * 48 * 3);
    expect(w.stats.scenes).toBe(300);
    expect(() => w.image('nope')).toThrow(/no scene "nope"/);
  });

  it('corpus covers every word of val/test captions, descriptions and samples', () => {
    const w = new ShapesWorld({ seed: 5, sizes });
    const vocab = new Set(w.corpus().flatMap((t) => t.split(/\s+/)));
    const texts = [
      ...[...w.scenes('val'), ...w.scenes('test')].flatMap((s) => [caption(s), detailedDescription(s)]),
      ...w.instructSamples('test').flatMap((s) => s.conversations.map((c) => c.value.replace('<image>\n', ''))),
      ...w.captionSamples('val').flatMap((s) => s.conversations.map((c) => c.value.replace('<image>\n', ''))),
    ];
    const missing = new Set(texts.flatMap((t) => t.split(/\s+/)).filter((word) => !vocab.has(word)));
    expect([...missing]).toEqual([]);
  });
});

describe('ShapesWorld at high resolution', () => {
  const sizes = { train: 40, val: 5, test: 5 };
  const area = (img: Float32Array) => {
    let n = 0;
    for (let i = 0; i < img.length; i += 3) if (img[i]! !== img[i + 1]! || img[i]! !== img[i + 2]! || img[i]! > 0.5) n++;
    return n;
  };

  it('draws smaller objects on the same canvas with objectScale, on the image pixel grid with positionGrid "image"', () => {
    const big = new ShapesWorld({ seed: 2, imageSize: 64, sizes });
    const small = new ShapesWorld({ seed: 2, imageSize: 64, sizes, objectScale: 0.42 });
    const id = 'train-0';
    expect(small.scene(id)).toEqual(big.scene(id)); // same scenes: only the drawing changes
    expect(small.image(id).length).toBe(64 * 64 * 3);
    const ratio = area(small.image(id)) / area(big.image(id));
    expect(ratio).toBeGreaterThan(0.42 ** 2 * 0.6);
    expect(ratio).toBeLessThan(0.42 ** 2 * 1.6);
    const fine = new ShapesWorld({ seed: 2, imageSize: 64, sizes, positionGrid: 'image' });
    const xs = fine.scenes('train').flatMap((s) => s.objects.map((o) => o.x));
    expect(xs.some((x) => !Number.isInteger(x))).toBe(true);
    expect(xs.every((x) => Number.isInteger(x * 2))).toBe(true);
    expect(big.scenes('train').every((s) => s.objects.every((o) => Number.isInteger(o.x)))).toBe(true);
  });

  it('renders any scene (near-miss twins) as it renders its own', () => {
    const world = new ShapesWorld({ seed: 2, imageSize: 64, sizes, objectScale: 0.5 });
    expect(world.render(world.scene('val-1'))).toEqual(world.image('val-1'));
  });

  it('refuses an objectScale outside (0, 1]', () => {
    expect(() => new ShapesWorld({ seed: 1, sizes, objectScale: 0 })).toThrow(/objectScale must be in \(0, 1\]/);
    expect(() => new ShapesWorld({ seed: 1, sizes, objectScale: 1.5 })).toThrow(/objectScale/);
  });
});
