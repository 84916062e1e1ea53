import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { preprocessImage } from './image-preprocess';
import { decodeRgbLikePil } from './pil-decode';
import { pilResize, PIL_RESAMPLE_CODES, type ResampleKernel, type RgbBytes } from './pil-resample';
import { preprocessFromHf, type FromHfOptions } from './preprocess-from-hf';

// Written by tools/pil-golden.py with Pillow and numpy; see manifest.json for the versions.
const dir = fileURLToPath(new URL('./__fixtures__/pil/', import.meta.url));
const manifest = JSON.parse(readFileSync(`${dir}manifest.json`, 'utf8')) as {
  pillow: string;
  resize: { source: string; width: number; height: number; resample: number; expected: string; direction: string }[];
  decode: { source: string; mode: string; expected: string }[];
  pipeline: { source: string; config: unknown; options: FromHfOptions; shape: number[]; expected: string }[];
};
const BY_CODE = Object.fromEntries(Object.entries(PIL_RESAMPLE_CODES).map(([name, code]) => [code, name as ResampleKernel]));

/** A fixture PNG's bytes as stored: PNGs written by the script carry no profile, and none is applied. */
async function png(name: string): Promise<RgbBytes> {
  const { data, info } = await sharp(readFileSync(dir + name), { ignoreIcc: true }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

function differences(actual: ArrayLike<number>, expected: ArrayLike<number>): { max: number; mean: number } {
  expect(actual.length).toBe(expected.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / actual.length };
}

describe(`pilResize: PIL ${manifest.pillow} Image.resize, byte for byte`, () => {
  it.each(manifest.resize.map((c) => [`${c.direction} ${BY_CODE[c.resample]} -> ${c.width}x${c.height}`, c] as const))('%s', async (_, c) => {
    const source = await png(c.source);
    const expected = await png(c.expected);
    const actual = pilResize(source, c.width, c.height, BY_CODE[c.resample]!);
    expect([actual.width, actual.height]).toEqual([c.width, c.height]);
    // the same integer arithmetic as Resample.c: exact (1 unit allowed where libm's sin/cos round differently)
    const { max, mean } = differences(actual.data, expected.data);
    expect(max).toBeLessThanOrEqual(1);
    expect(mean).toBeLessThan(0.01);
  });

  it('covers every filter both ways, and the filters really differ (a test that cannot tell them apart proves nothing)', async () => {
    for (const direction of ['up', 'down', 'mixed'])
      expect(new Set(manifest.resize.filter((c) => c.direction === direction).map((c) => c.resample))).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    const up = await Promise.all(['bicubic', 'lanczos', 'hamming'].map((name) => png(`resize-up-${name}.png`)));
    expect(differences(up[0]!.data, up[1]!.data).mean).toBeGreaterThan(0.3);
    expect(differences(up[0]!.data, up[2]!.data).mean).toBeGreaterThan(0.3);
  });

  it('returns a copy at the same size and refuses a bad size or filter', () => {
    const source = { data: new Uint8Array([1, 2, 3, 4, 5, 6]), width: 2, height: 1 };
    const same = pilResize(source, 2, 1, 'bicubic');
    expect(same.data).toEqual(source.data);
    expect(same.data).not.toBe(source.data);
    expect(() => pilResize(source, 0, 1, 'bicubic')).toThrow(/positive integers, got 0x1/);
    expect(() => pilResize(source, 3, 1, 'cubic' as ResampleKernel)).toThrow(/unknown resample "cubic"/);
    expect(() => pilResize({ ...source, width: 3 }, 1, 1, 'box')).toThrow(/3x1 RGB needs 9 bytes, got 6/);
  });
});

describe('decodeRgbLikePil: Image.open(f).convert("RGB")', () => {
  it.each(manifest.decode.map((c) => [`${c.source} (PIL mode ${c.mode})`, c] as const))('%s', async (_, c) => {
    const actual = await decodeRgbLikePil(readFileSync(dir + c.source));
    const expected = await png(c.expected);
    expect([actual.width, actual.height]).toEqual([expected.width, expected.height]);
    // same libjpeg/libpng decoders: exact
    expect(differences(actual.data, expected.data).max).toBe(0);
  });

  it('ignores the embedded ICC profile, which colour management would apply (the fixture profile moves every mid-tone)', async () => {
    const file = readFileSync(`${dir}icc.jpg`);
    const managed = await sharp(file).removeAlpha().raw().toBuffer();
    const expected = await png('decode-icc.png');
    expect(differences(managed, expected.data).mean).toBeGreaterThan(10);
  });
});

describe("preprocessImage from preprocessor_config.json: transformers' pixel_values (HWC)", () => {
  it.each(manifest.pipeline.map((c) => [c.expected, c] as const))('%s', async (_, c) => {
    const expected = new Float32Array(new Uint8Array(readFileSync(dir + c.expected)).buffer);
    const options = preprocessFromHf(c.config, c.options);
    const actual = await preprocessImage(`${dir}${c.source}`, options);
    const [height, width] = c.shape;
    expect(actual.length).toBe(height! * width! * 3);
    // float32 as numpy computes it: equal to the last bit
    const { max } = differences(actual, expected);
    expect(max).toBe(0);
  });
});
