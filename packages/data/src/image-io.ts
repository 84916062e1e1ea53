import { readRegularFile } from '@mllm/core/internal';
import { decodeRgbLikePil } from './pil-decode';
import { DEFAULT_RESAMPLE, pilResize, type ResampleKernel, type RgbBytes } from './pil-resample';
import { loadSharp } from './sharp-loader';

export { loadSharp, type Sharp } from './sharp-loader';

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
 * (stretching, no crop) and returns HWC RGB in [0, 1]: the pixels PIL gives
 * (`Image.open(f).convert("RGB").resize((size, size), resample)`, then / 255), with the filter
 * training data and the exported preprocessor_config.json use unless another is named.
 */
export async function loadImageFile(pathOrBuffer: string | Buffer, size: number, resample: ResampleKernel = DEFAULT_RESAMPLE): Promise<Float32Array> {
  // read here, not by sharp: only a regular file is opened (a FIFO would block the decoder)
  const input = typeof pathOrBuffer === 'string' ? await readRegularFile(pathOrBuffer, { what: 'image file' }) : pathOrBuffer;
  const image = await decodeRgbLikePil(input);
  return toModelInput(pilResize(image, size, size, resample));
}

/** transformers' rescale then normalize: float32(x * (1 / 255)) in float64, then (x - mean) / std in float32. */
export function toModelInput(image: RgbBytes, mean?: readonly number[], std?: readonly number[]): Float32Array {
  const { data } = image;
  const out = new Float32Array(data.length);
  const scale = 1 / 255;
  if (!mean && !std) {
    for (let i = 0; i < data.length; i++) out[i] = data[i]! * scale;
    return out;
  }
  const m = (mean ?? [0, 0, 0]).map(Math.fround);
  const s = (std ?? [1, 1, 1]).map(Math.fround);
  for (let i = 0; i < data.length; i++) {
    const c = i % 3;
    out[i] = Math.fround(Math.fround(data[i]! * scale) - m[c]!) / s[c]!;
  }
  return out;
}
