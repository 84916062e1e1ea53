import { describe, expect, it } from 'vitest';
import { renderScene, BACKGROUND, COLOR_RGB } from './render';
import { imageToPngBuffer, loadImageFile } from './image-io';
import { cellCentre } from './generate-scene';
import { CELLS } from './scene';
import type { Scene, SceneObject } from './scene';
import { ShapesWorld } from './shapes-world';

const pixel = (img: Float32Array, size: number, x: number, y: number) => {
  const i = (Math.floor(y) * size + Math.floor(x)) * 3;
  return [img[i], img[i + 1], img[i + 2]];
};

const obj = (shape: SceneObject['shape'], size: SceneObject['size'] = 'large'): SceneObject => ({
  shape,
  color: 'red',
  size,
  cell: 'top left',
  ...cellCentre('top left'),
});

const mask = (o: SceneObject) => {
  const img = renderScene({ id: 'x', objects: [o] });
  const m: number[] = [];
  for (let i = 0; i < img.length; i += 3) m.push(img[i]! === 1 ? 1 : 0);
  return m;
};

describe('renderScene', () => {
  it('paints object centres in the object colour and leaves empty cells as background', () => {
    const world = new ShapesWorld({ seed: 3, sizes: { train: 100, val: 0, test: 0 } });
    for (const scene of world.scenes('train')) {
      const img = world.image(scene.id);
      expect(img.length).toBe(32 * 32 * 3);
      for (const o of scene.objects) expect(pixel(img, 32, o.x, o.y)).toEqual([...COLOR_RGB[o.color]]);
      for (const cell of CELLS.filter((c) => !scene.objects.some((o) => o.cell === c))) {
        const c = cellCentre(cell);
        expect(pixel(img, 32, c.x, c.y)).toEqual([BACKGROUND, BACKGROUND, BACKGROUND].map(Math.fround));
      }
    }
  });

  it('scales to other image sizes', () => {
    const scene: Scene = { id: 'a', objects: [{ ...obj('square'), color: 'yellow' }] };
    const img = renderScene(scene, { imageSize: 64 });
    expect(img.length).toBe(64 * 64 * 3);
    expect(pixel(img, 64, 16, 16)).toEqual([1, 1, 0]);
    expect(pixel(img, 64, 48, 48)).toEqual([BACKGROUND, BACKGROUND, BACKGROUND].map(Math.fround));
  });

  it('draws shapes and sizes that differ in many pixels at 32 px', () => {
    const shapes = ['circle', 'square', 'triangle', 'cross'] as const;
    for (const size of ['small', 'large'] as const) {
      for (let i = 0; i < shapes.length; i++) {
        for (let j = i + 1; j < shapes.length; j++) {
          const a = mask(obj(shapes[i]!, size));
          const b = mask(obj(shapes[j]!, size));
          const diff = a.reduce((s, v, k) => s + (v !== b[k] ? 1 : 0), 0);
          expect(diff, `${size} ${shapes[i]} vs ${shapes[j]}`).toBeGreaterThanOrEqual(size === 'small' ? 4 : 12);
        }
      }
    }
    for (const s of shapes) {
      const area = (size: 'small' | 'large') => mask(obj(s, size)).reduce((x, y) => x + y, 0);
      expect(area('large')).toBeGreaterThan(2.5 * area('small'));
    }
  });

  it('rejects a bad imageSize', () => {
    expect(() => renderScene({ id: 'a', objects: [] }, { imageSize: 2.5 })).toThrow(/imageSize/);
  });
});

describe('PNG round trip', () => {
  it('render -> png -> load stays within 1/255', async () => {
    const world = new ShapesWorld({ seed: 5, sizes: { train: 3, val: 0, test: 0 } });
    const img = world.image('train-0');
    const png = await imageToPngBuffer(img, 32);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const back = await loadImageFile(png, 32);
    let maxErr = 0;
    for (let i = 0; i < img.length; i++) maxErr = Math.max(maxErr, Math.abs(img[i]! - back[i]!));
    expect(maxErr).toBeLessThanOrEqual(1 / 255);
  });

  it('rejects pixels of the wrong length', async () => {
    await expect(imageToPngBuffer(new Float32Array(10), 32)).rejects.toThrow(/32x32x3/);
  });
});

describe('renderScene objectScale', () => {
  it('draws an object at half scale on a twice larger canvas pixel for pixel as the full-size one', () => {
    for (const shape of ['circle', 'square', 'triangle', 'cross'] as const)
      for (const size of ['small', 'large'] as const) {
        const o = (x: number, y: number): SceneObject => ({ shape, color: 'green', size, cell: 'top left', x, y });
        const small = renderScene({ id: 's', objects: [o(8, 8)] }, { imageSize: 64, objectScale: 0.5 });
        const full = renderScene({ id: 'f', objects: [o(16, 16)] }, { imageSize: 32 });
        const crop = new Float32Array(32 * 32 * 3);
        for (let y = 0; y < 32; y++) crop.set(small.subarray(y * 64 * 3, (y * 64 + 32) * 3), y * 32 * 3);
        expect(crop).toEqual(full);
      }
  });

  it('refuses a scale outside (0, 1]', () => {
    expect(() => renderScene({ id: 'x', objects: [] }, { objectScale: 0 })).toThrow(/objectScale must be in \(0, 1\]/);
  });
});

describe('renderScene brightness', () => {
  it('scales the object colour and nothing else', () => {
    const o: SceneObject = { shape: 'circle', color: 'yellow', size: 'large', cell: 'top left', ...cellCentre('top left') };
    const full = renderScene({ id: 'a', objects: [o] });
    const dim = renderScene({ id: 'b', objects: [{ ...o, brightness: 0.6 }] });
    for (let i = 0; i < full.length; i++) expect(dim[i]).toBeCloseTo(full[i] === BACKGROUND || full[i] === Math.fround(BACKGROUND) ? full[i]! : full[i]! * 0.6, 6);
    expect(pixel(dim, 32, o.x, o.y)).toEqual([0.6, 0.6, 0].map(Math.fround));
  });
});
