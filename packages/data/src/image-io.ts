import { readRegularFile } from '@mllm/core/internal';

export type Sharp = typeof import('sharp');

/** sharp is loaded only when an image file is touched, so scene generation works without it. */
export async function loadSharp(): Promise<Sharp> {
  try {
    const mod = (await import('sharp')) as unknown as { default?: Sharp };
    return mod.default ?? (mod as unknown as Sharp);
  } catch (cause) {
    throw new Error('Image file I/O needs the "sharp" package: run `npm install sharp` in your project', { cause });
  }
}

function checkPixels(pixels: Float32Array, size: number): void {
  if (pixels.length !== size * size * 3) {
    throw new Error(`expected ${size}x${size}x3 = ${size * size * 3} values (HWC RGB), got ${pixels.length}`);
  }
}

/** Encodes an HWC RGB Float32Array in [0, 1] as a PNG. */
export async function imageToPngBuffer(pixels: Float32Array, size: number): Promise<Buffer> {
  checkPixels(pixels, size);
  const bytes = Buffer.alloc(pixels.length);
  for (let i = 0; i < pixels.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, pixels[i]!)) * 255);
  const sharp = await loadSharp();
  return sharp(bytes, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
}

/**
 * Decodes an image file (any format sharp reads) or buffer, resizes it to size x size
 * (stretching, no crop) and returns HWC RGB in [0, 1].
 */
export async function loadImageFile(pathOrBuffer: string | Buffer, size: number): Promise<Float32Array> {
  // read here, not by sharp: only a regular file is opened (a FIFO would block the decoder)
  const input = typeof pathOrBuffer === 'string' ? await readRegularFile(pathOrBuffer, { what: 'image file' }) : pathOrBuffer;
  const sharp = await loadSharp();
  const { data, info } = await sharp(input)
    .removeAlpha()
    .toColourspace('srgb')
    .resize(size, size, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 colour channels after decoding, got ${info.channels}`);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! / 255;
  return out;
}
