import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { preprocessImage, readImageHeader, type ImagePreprocessOptions } from './image-preprocess';
import { preprocessFromHf } from './preprocess-from-hf';
import { pilResize } from './pil-resample';

const dir = mkdtempSync(join(tmpdir(), 'preprocess-'));

/** W x H RGB bytes from a per-pixel function. */
function raw(width: number, height: number, f: (x: number, y: number) => [number, number, number]): Buffer {
  const bytes = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) bytes.set(f(x, y), (y * width + x) * 3);
  return bytes;
}

function pixel(out: Float32Array, size: number, x: number, y: number): number[] {
  const i = (y * size + x) * 3;
  return [out[i]!, out[i + 1]!, out[i + 2]!];
}

function expectPixel(actual: number[], expected: number[]): void {
  actual.forEach((v, c) => expect(v).toBeCloseTo(expected[c]!, 2));
}

// 32 x 16: columns 0-7 red, 8-23 green, 24-31 blue. Every region is wider than the bicubic
// kernel's reach at a 2x reduction (4 source pixels), so the values checked are exact.
const STRIPES = raw(32, 16, (x) => (x < 8 ? [255, 0, 0] : x < 24 ? [0, 255, 0] : [0, 0, 255]));
const RED = [1, 0, 0];
const GREEN = [0, 1, 0];
const BLUE = [0, 0, 1];

describe('preprocessImage', () => {
  const png = () => sharp(STRIPES, { raw: { width: 32, height: 16, channels: 3 } }).png().toBuffer();

  it('crop keeps the centre (CLIP), stretch squeezes everything in, pad adds mean-coloured bands (LLaVA-1.5)', async () => {
    const input = await png();
    // crop: the short side is already 16, so no resize; columns 8..23 remain: only green
    const crop = await preprocessImage(input, { size: 16, mode: 'crop' });
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) expectPixel(pixel(crop, 16, x, y), GREEN);
    // stretch: 2x narrower, full height: red left, green middle, blue right on every row
    const stretch = await preprocessImage(input, { size: 16, mode: 'stretch' });
    for (const y of [0, 7, 15]) {
      expectPixel(pixel(stretch, 16, 0, y), RED);
      expectPixel(pixel(stretch, 16, 7, y), GREEN);
      expectPixel(pixel(stretch, 16, 15, y), BLUE);
    }
    // pad: 32x32 with rows 0-7 and 24-31 grey (floor(0.5 * 255) = 127), then 2x smaller
    const pad = await preprocessImage(input, { size: 16, mode: 'pad' });
    const grey = [127 / 255, 127 / 255, 127 / 255];
    for (const x of [0, 7, 15]) {
      expectPixel(pixel(pad, 16, x, 0), grey);
      expectPixel(pixel(pad, 16, x, 15), grey);
    }
    expectPixel(pixel(pad, 16, 0, 7), RED);
    expectPixel(pixel(pad, 16, 7, 8), GREEN);
    expectPixel(pixel(pad, 16, 15, 8), BLUE);
  });

  it('pads with the normaliser mean (as expand2square does with image_mean * 255) and normalises', async () => {
    const input = await png();
    const mean: [number, number, number] = [0.2, 0.4, 0.6];
    const std: [number, number, number] = [0.5, 0.25, 0.1];
    const out = await preprocessImage(input, { size: 16, mode: 'pad', mean, std });
    // the band is floor(mean * 255) / 255 = mean exactly here (51, 102, 153), so it normalises to 0
    expectPixel(pixel(out, 16, 3, 0), [0, 0, 0]);
    // red (1, 0, 0) -> ((1 - 0.2) / 0.5, (0 - 0.4) / 0.25, (0 - 0.6) / 0.1)
    expectPixel(pixel(out, 16, 0, 8), [1.6, -1.6, -6]);
    const greyBand = await preprocessImage(input, { size: 16, mode: 'pad', padColor: [0.2, 0.4, 0.6] });
    expectPixel(pixel(greyBand, 16, 3, 0), [0.2, 0.4, 0.6]);
  });

  it('follows HF resize-then-crop geometry: the short side to shortestEdge, the long side truncated, crop offsets floored', async () => {
    // 29 x 10 with every pixel distinct; shortest edge 21 -> 60 x 21 (60 = floor(21 * 29 / 10 = 60.9)),
    // crop 20 x 20 at left = floor(40 / 2) = 20, top = floor(1 / 2) = 0
    const source = sharp(raw(29, 10, (x, y) => [8 * x, 25 * y, 0]), { raw: { width: 29, height: 10, channels: 3 } });
    const input = await source.clone().png().toBuffer();
    const out = await preprocessImage(input, { size: 20, mode: 'crop', shortestEdge: 21, resample: 'bilinear' });
    // the resize itself from pilResize directly (pil-parity.test.ts checks it against PIL); the crop offsets are what is checked, on every pixel
    const resized = pilResize({ data: await source.clone().raw().toBuffer(), width: 29, height: 10 }, 60, 21, 'bilinear').data;
    const expected = Array.from({ length: 20 * 20 * 3 }, (_, k) => {
      const [p, c] = [Math.floor(k / 3), k % 3];
      return resized[(Math.floor(p / 20) * 60 + (p % 20) + 20) * 3 + c]!;
    });
    expect(Array.from(out, (v) => Math.round(v * 255))).toEqual(expected);
    await expect(preprocessImage(input, { size: 20, mode: 'crop', shortestEdge: 16 })).rejects.toThrow(/shortestEdge 16 is smaller than the crop 20x20/);
  });

  it('decodes PNG, JPEG and WebP files to the requested size, with the same picture', async () => {
    const gradient = raw(64, 48, (x, y) => [x * 4, y * 5, 128]);
    const base = sharp(gradient, { raw: { width: 64, height: 48, channels: 3 } });
    const files = {
      png: await base.clone().png().toBuffer(),
      jpeg: await base.clone().jpeg({ quality: 95 }).toBuffer(),
      webp: await base.clone().webp({ quality: 95 }).toBuffer(),
    };
    const decoded: Record<string, Float32Array> = {};
    for (const [format, bytes] of Object.entries(files)) {
      const path = join(dir, `gradient.${format}`);
      writeFileSync(path, bytes);
      expect(await readImageHeader(path)).toEqual({ width: 64, height: 48, format });
      for (const [options, length] of [
        [{ size: 32, mode: 'crop' }, 32 * 32 * 3],
        [{ size: { width: 24, height: 16 }, mode: 'pad' }, 24 * 16 * 3],
        [{ size: 20, mode: 'stretch', resample: 'bilinear' }, 20 * 20 * 3],
      ] as [ImagePreprocessOptions, number][]) {
        const out = await preprocessImage(path, options);
        expect(out.length).toBe(length);
        expect(Math.min(...out)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...out)).toBeLessThanOrEqual(1);
      }
      decoded[format] = await preprocessImage(path, { size: 32, mode: 'crop' });
    }
    // lossy formats stay close to the PNG (mean absolute difference well under 1/50)
    for (const format of ['jpeg', 'webp']) {
      const diff = decoded[format]!.reduce((s, v, i) => s + Math.abs(v - decoded.png![i]!), 0) / decoded.png!.length;
      expect(diff).toBeLessThan(0.02);
    }
    // the gradient survives: red grows to the right, green downwards
    const png = decoded.png!;
    expect(pixel(png, 32, 31, 16)[0]!).toBeGreaterThan(pixel(png, 32, 0, 16)[0]! + 0.4);
    expect(pixel(png, 32, 16, 31)[1]!).toBeGreaterThan(pixel(png, 32, 16, 0)[1]! + 0.4);
  });

  it('refuses images over the pixel limit from the header alone, and names unreadable files', async () => {
    const full = await sharp(raw(640, 480, (x, y) => [x & 255, y & 255, (x * y) & 255]), { raw: { width: 640, height: 480, channels: 3 } }).jpeg().toBuffer();
    // the header survives truncation, the pixels do not: the limit must be checked before decoding
    const truncated = join(dir, 'truncated.jpg');
    writeFileSync(truncated, full.subarray(0, Math.floor(full.length / 2)));
    await expect(preprocessImage(truncated, { size: 8, mode: 'crop' }, { maxPixels: 100000 })).rejects.toThrow(/640x480 = 307200 pixels, over the limit of 100000/);
    await expect(preprocessImage(truncated, { size: 8, mode: 'crop' })).rejects.toThrow(/truncated\.jpg: cannot decode image/);
    const garbage = join(dir, 'garbage.png');
    writeFileSync(garbage, Buffer.from('not an image at all'));
    await expect(preprocessImage(garbage, { size: 8, mode: 'crop' })).rejects.toThrow(/garbage\.png: unreadable image/);
    await expect(preprocessImage(join(dir, 'nope.png'), { size: 8, mode: 'crop' })).rejects.toThrow(/nope\.png: image file not found/);
  });
});

describe('preprocessFromHf', () => {
  const clipMean = [0.48145466, 0.4578275, 0.40821073];
  const clipStd = [0.26862954, 0.26130258, 0.27577711];

  it('reads CLIP configs, old and new style, into resize + centre crop', () => {
    // openai/clip-vit-large-patch14-336 (the LLaVA-1.5 tower): ints for size and crop_size
    const old = preprocessFromHf({
      crop_size: 336, do_center_crop: true, do_normalize: true, do_resize: true, feature_extractor_type: 'CLIPFeatureExtractor',
      image_mean: clipMean, image_std: clipStd, resample: 3, size: 336,
    });
    expect(old).toEqual({ size: 336, mode: 'crop', resample: 'bicubic', mean: clipMean, std: clipStd });
    const current = preprocessFromHf({ image_processor_type: 'CLIPImageProcessor', size: { shortest_edge: 256 }, crop_size: { height: 224, width: 224 }, resample: 2 });
    expect(current).toEqual({ size: 224, mode: 'crop', shortestEdge: 256, resample: 'bilinear', mean: clipMean, std: clipStd });
    expect(preprocessFromHf({ image_processor_type: 'CLIPImageProcessor', do_normalize: false })).toEqual({ size: 224, mode: 'crop', resample: 'bicubic' });
  });

  it('reads SigLIP configs into a stretch with mean = std = 0.5', () => {
    expect(preprocessFromHf({ image_processor_type: 'SiglipImageProcessor', size: { height: 384, width: 384 }, resample: 3, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] })).toEqual({
      size: 384, mode: 'stretch', resample: 'bicubic', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5],
    });
    expect(preprocessFromHf({ image_processor_type: 'SiglipImageProcessor' })).toMatchObject({ size: 224, mode: 'stretch', mean: [0.5, 0.5, 0.5] });
  });

  it("LLaVA's image_aspect_ratio pad pads with the processor's mean", () => {
    expect(preprocessFromHf({ image_processor_type: 'CLIPImageProcessor', size: { shortest_edge: 336 }, crop_size: 336 }, { imageAspectRatio: 'pad' })).toEqual({
      size: 336, mode: 'pad', padColor: clipMean, resample: 'bicubic', mean: clipMean, std: clipStd,
    });
  });

  it('takes every PIL filter by its number', () => {
    const names = [0, 1, 2, 3, 4, 5].map((resample) => preprocessFromHf({ image_processor_type: 'SiglipImageProcessor', resample }).resample);
    expect(names).toEqual(['nearest', 'lanczos', 'bilinear', 'bicubic', 'box', 'hamming']);
  });

  it('refuses what it cannot honour, naming the key', () => {
    const clip = { image_processor_type: 'CLIPImageProcessor' };
    expect(() => preprocessFromHf({ image_processor_type: 'LlavaNextImageProcessor' })).toThrow(/image_processor_type: "LlavaNextImageProcessor"; supported: CLIPImageProcessor/);
    expect(() => preprocessFromHf({ size: 224 })).toThrow(/image_processor_type: missing/);
    expect(() => preprocessFromHf({ ...clip, resample: 6 })).toThrow(/resample: 6 is not a PIL filter; use one of 0 \(nearest\), 1 \(lanczos\), 2 \(bilinear\), 3 \(bicubic\), 4 \(box\), 5 \(hamming\)/);
    expect(() => preprocessFromHf({ ...clip, do_resize: false })).toThrow(/do_resize: is false/);
    expect(() => preprocessFromHf({ ...clip, do_rescale: false })).toThrow(/do_rescale: pixels are always rescaled by 1\/255/);
    expect(() => preprocessFromHf({ ...clip, do_center_crop: false })).toThrow(/size: .* without a centre crop gives a size that follows the image/);
    expect(() => preprocessFromHf({ ...clip, size: { shortest_edge: 200 } })).toThrow(/shortest_edge 200 is smaller than crop_size 224x224/);
    expect(() => preprocessFromHf({ ...clip, size: { height: 300, width: 300 } })).toThrow(/crop_size: 224x224 after a fixed resize to 300x300/);
    expect(() => preprocessFromHf({ ...clip, image_mean: [0.5, 0.5] })).toThrow(/preprocessor_config.json is invalid:\n {2}- image_mean/);
  });
});
