import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RESAMPLE, decodeRgbLikePil, ImageFileError, loadImageFile, PIL_RESAMPLE_CODES, pilResize, readImageHeader, toModelInput } from '@mllm/data';
import { loadImageInput } from './image-input';
import { writeImageCases } from './image-files.test-helper';

describe('loadImageInput: an image to ask about, with the checks training data gets', () => {
  let files: Awaited<ReturnType<typeof writeImageCases>>;
  beforeAll(async () => {
    files = await writeImageCases(mkdtempSync(join(tmpdir(), 'image-input-')));
  });

  it('decodes a PNG exactly as loadImageFile did for chat, from a path or from bytes', async () => {
    const want = await loadImageFile(files.png, 16);
    expect(await loadImageInput(files.png, { size: 16 })).toEqual(want);
    expect(await loadImageInput(new Uint8Array(readFileSync(files.png)), { size: 16 })).toEqual(want);
    expect(want.length).toBe(16 * 16 * 3);
    expect([...want.slice(0, 3)]).toEqual([1, 0, 0]);
  });

  it("resizes with the model's filter: PIL bicubic, the resample 3 the ONNX export declares in preprocessor_config.json", async () => {
    expect(PIL_RESAMPLE_CODES[DEFAULT_RESAMPLE]).toBe(3);
    const stripes = Buffer.from(Array.from({ length: 23 * 9 * 3 }, (_, i) => (Math.floor(i / 3) % 23) * 37 % 256));
    const file = join(mkdtempSync(join(tmpdir(), 'image-resample-')), 'stripes.png');
    writeFileSync(file, await sharp(stripes, { raw: { width: 23, height: 9, channels: 3 } }).png().toBuffer());
    const decoded = await decodeRgbLikePil(readFileSync(file));
    const got = await loadImageInput(file, { size: 16 });
    expect(got).toEqual(toModelInput(pilResize(decoded, 16, 16, 'bicubic')));
    expect(got).not.toEqual(toModelInput(pilResize(decoded, 16, 16, 'lanczos')));
  });

  it('reads a TIFF as training data does (sharp decodes it), to the same pixels as the PNG', async () => {
    expect(await loadImageInput(files.tiff, { size: 16 })).toEqual(await loadImageInput(files.png, { size: 16 }));
  });

  it.each([
    ['missing', /missing\.png: image file not found; check the path/],
    ['folder', /folder\.png: is a folder, not an image file/],
    ['truncated', /truncated\.png: cannot decode the image \(.+\); the file is truncated or damaged: save the image again as PNG or JPEG$/],
    ['cutHeader', /cut-header\.png: unreadable image \(.+\); the file is damaged: save the image again as PNG or JPEG$/],
    ['bmp', /red\.bmp: not an image format that can be read \(it reads PNG, JPEG, WebP, GIF, AVIF, TIFF or SVG\); save the image as PNG or JPEG$/],
    ['huge', /huge\.png: image is 16000x16000 = 256000000 pixels, over the limit of 64000000 that training data has too; downscale it \(the model sees it at 16x16\)$/],
  ] as const)('refuses a %s file with an ImageFileError naming it and what to do', async (kind, message) => {
    const error = await loadImageInput(files[kind], { size: 16 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageFileError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('refuses the huge PNG from its header, as lint-data and LLaVA training data do, and applies a lower limit when asked', async () => {
    await expect(readImageHeader(files.huge)).rejects.toThrow(/over the limit of 64000000/);
    await expect(loadImageInput(files.png, { size: 16, maxPixels: 500 })).rejects.toThrow(/image is 24x24 = 576 pixels, over the limit of 500 /);
    expect(await loadImageInput(files.png, { size: 16, maxPixels: 576 })).toHaveLength(16 * 16 * 3);
    await expect(loadImageInput(new Uint8Array(readFileSync(files.bmp)), { size: 16 })).rejects.toThrow(/^image bytes \(\d+ bytes\): not an image format/);
  });
});
