import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Color } from '@mllm/data';
import { BACKGROUND, COLOR_RGB } from '@mllm/data/internal';
import type { SceneGroundTruth } from '@mllm/run';
import { mllmInProcess } from './capture-output.test-helper';

const dir = mkdtempSync(join(tmpdir(), 'mllm-scene-'));
const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));

const mllm = mllmInProcess;

async function pixelsOf(png: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  return { data, width: info.width, height: info.height };
}

const byte = (v: number) => Math.round(v * 255);

/**
 * Checks the ground truth against the image alone: every quadrant (grid cell) holds coloured
 * pixels exactly when an object is there, in that object's colour, and the pixel at each
 * object's centre has its colour; everything else is background.
 */
async function expectMatches(png: string, truth: SceneGroundTruth) {
  const { data, width, height } = await pixelsOf(png);
  expect([width, height]).toEqual([truth.size, truth.size]);
  const half = truth.size / 2;
  const background = byte(BACKGROUND);
  for (const [cell, x0, y0] of [['top left', 0, 0], ['top right', half, 0], ['bottom left', 0, half], ['bottom right', half, half]] as const) {
    const colours = new Set<string>();
    for (let y = y0; y < y0 + half; y++)
      for (let x = x0; x < x0 + half; x++) {
        const rgb = [...data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)];
        if (rgb.some((v) => v !== background)) colours.add(rgb.join(','));
      }
    const object = truth.objects.find((o) => o.cell === cell);
    expect([...colours], cell).toEqual(object ? [COLOR_RGB[object.color as Color].map(byte).join(',')] : []);
  }
  for (const o of truth.objects) {
    const at = (Math.floor(o.y) * width + Math.floor(o.x)) * 3;
    expect([...data.subarray(at, at + 3)], `${o.color} ${o.shape} at ${o.x}, ${o.y}`).toEqual(COLOR_RGB[o.color as Color].map(byte));
  }
}

describe('mllm scene', () => {
  it('writes a PNG and its ground truth beside it, and prints questions with their true answers', async () => {
    const png = join(dir, 'scene.png');
    const { code, out } = await mllm(['scene', '--seed', '5', '--objects', '3', '--out', png]);
    expect(code).toBe(0);
    const truth = JSON.parse(readFileSync(join(dir, 'scene.json'), 'utf8')) as SceneGroundTruth;
    expect(truth.size).toBe(32);
    expect(truth.objects).toHaveLength(3);
    await expectMatches(png, truth);
    const lines = out.split('\n');
    expect(lines[0]).toBe(`${png}: 32x32 px, ${truth.caption.replace(/ \.$/, '')}; ground truth in ${join(dir, 'scene.json')}`);
    expect(lines[1]).toBe(`ask about it: mllm chat --checkpoint runs/default --image ${png}`);
    expect(out).toMatch(/^ {2}how many objects are there \? +-> three$/m);
    expect(out).toMatch(/^ {2}describe the image \. +-> /m);
    for (const q of truth.questions) expect(out).toContain(q.question);
    expect(truth.questions.map((q) => q.type)).toEqual(expect.arrayContaining(['existence', 'count']));
  });

  it('the same seed gives the same scene; --size and --objects change it as asked', async () => {
    const [a, b, c, big] = ['a', 'b', 'c', 'big'].map((n) => join(dir, `${n}.png`));
    expect((await mllm(['scene', '--out', a])).code).toBe(0);
    expect((await mllm(['scene', '--out', b])).code).toBe(0);
    expect((await mllm(['scene', '--seed', '1', '--out', c])).code).toBe(0);
    expect(readFileSync(b)).toEqual(readFileSync(a));
    expect(readFileSync(c)).not.toEqual(readFileSync(a));
    for (const k of [1, 2, 4]) {
      expect((await mllm(['scene', '--seed', '9', '--objects', String(k), '--size', '64', '--out', big])).code).toBe(0);
      const truth = JSON.parse(readFileSync(join(dir, 'big.json'), 'utf8')) as SceneGroundTruth;
      expect(truth.objects).toHaveLength(k);
      await expectMatches(big, truth);
    }
  });

  it("--checkpoint renders at the run's image size (its high-resolution input when it has one)", async () => {
    for (const [name, encoder, size] of [
      ['plain', tiny.encoder, 16],
      ['highres', { ...tiny.encoder, highRes: { strategy: 'resize', inputSize: 48 } }, 48],
    ] as const) {
      const run = join(dir, name);
      mkdirSync(run);
      writeFileSync(join(run, 'config.json'), JSON.stringify({ ...tiny, encoder }));
      const png = join(dir, `${name}.png`);
      const { code, out } = await mllm(['scene', '--checkpoint', run, '--out', png]);
      expect(code).toBe(0);
      expect(out).toContain(`mllm chat --checkpoint ${run} --image ${png}`);
      await expectMatches(png, JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')));
      expect((await pixelsOf(png)).width).toBe(size);
    }
  });

  it('says what is wrong with its flags (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['scene'], /mllm scene needs --out FILE\.png/],
      [['scene', '--out', join(dir, 'x.jpg')], /name the file \*\.png, got .*x\.jpg/],
      [['scene', '--objects', '5', '--out', join(dir, 'x.png')], /a Shapes scene holds 1 to 4 objects \(one per grid cell\), got 5/],
      [['scene', '--size', '2', '--out', join(dir, 'x.png')], /scene size must be a whole number of pixels in \[4, 2048\], got 2/],
      [['scene', '--seed', 'one', '--out', join(dir, 'x.png')], /--seed must be an integer, got one/],
      [['scene', '--checkpoint', join(dir, 'nope'), '--out', join(dir, 'x.png')], /nope\/config\.json: not found/],
      [['scene', '--out', join(dir, 'no-folder', 'x.png')], /cannot write the scene to .*no-folder\/x\.png: ENOENT; does its folder exist\?/],
    ];
    for (const [args, message] of cases) {
      const { code, err } = await mllm(args);
      expect(code, args.join(' ')).toBe(2);
      expect(err).toMatch(message);
    }
  });
});
