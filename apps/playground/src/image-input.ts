import { DEFAULT_MAX_PIXELS, DEFAULT_RESAMPLE, pilResize, toModelInput } from '@mllm/data';

/**
 * An image the user gives (upload, drop, paste) as the model's pixels: decoded by the browser,
 * refused with a readable message when it is not an image or too large, then taken as is when it
 * already has the encoder's size (a `mllm scene` PNG: the same pixels the CLI reads) or stretched
 * to size x size otherwise with the filter the CLI and training use (pilResize, DEFAULT_RESAMPLE:
 * PIL's bicubic), so a resized image gets the CLI's pixels too, up to the browser's decoder.
 */

/** The training data's limit (a decompression bomb is refused after the browser decoded its header). */
export const MAX_PIXELS = DEFAULT_MAX_PIXELS;
/** Files above this are refused before decoding. */
export const MAX_BYTES = 64 * 2 ** 20;

export class ImageInputError extends Error {}

export interface ImageInput {
  /** HWC RGB in [0, 1], size x size. */
  pixels: Float32Array;
  /** The image as the page shows it (the original, not the resized pixels). */
  bitmap: ImageBitmap;
  width: number;
  height: number;
  resized: boolean;
}

export async function readImage(blob: Blob, name: string, size: number): Promise<ImageInput> {
  if (blob.size > MAX_BYTES)
    throw new ImageInputError(`${name} is too large (${(blob.size / 2 ** 20).toFixed(1)} MiB; the limit is ${MAX_BYTES / 2 ** 20} MiB): save a smaller PNG or JPEG`);
  let bitmap: ImageBitmap;
  try {
    // no colour management and no premultiplication: the PNG's bytes, as sharp reads them for the CLI
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new ImageInputError(`${name} cannot be decoded as an image (the browser reads PNG, JPEG, WebP, GIF, BMP and AVIF): save it as PNG or JPEG`);
  }
  if (bitmap.width * bitmap.height > MAX_PIXELS) {
    const { width, height } = bitmap;
    bitmap.close();
    throw new ImageInputError(`${name} is too large (${width}x${height} pixels; the limit is ${MAX_PIXELS} pixels): scale it down first`);
  }
  const resized = bitmap.width !== size || bitmap.height !== size;
  return { pixels: pixelsOf(bitmap, size), bitmap, width: bitmap.width, height: bitmap.height, resized };
}

/** The image stretched to size x size as the CLI does (no-op at that size), HWC RGB in [0, 1]; alpha is dropped as sharp's removeAlpha does. */
export function pixelsOf(source: ImageBitmap | OffscreenCanvas | HTMLCanvasElement, size: number): Float32Array {
  const { width, height } = source;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.drawImage(source, 0, 0);
  const rgba = context.getImageData(0, 0, width, height, { colorSpace: 'srgb' }).data;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = rgba[i * 4 + c]!;
  return toModelInput(pilResize({ data: rgb, width, height }, size, size, DEFAULT_RESAMPLE));
}

/** HWC RGB floats in [0, 1] -> an RGBA ImageData, rounded as @mllm/data's imageToPngBuffer rounds. */
export function toImageData(pixels: Float32Array, size: number): ImageData {
  const rgba = new Uint8ClampedArray(size * size * 4);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) rgba[i * 4 + c] = Math.round(Math.min(1, Math.max(0, pixels[i * 3 + c]!)) * 255);
    rgba[i * 4 + 3] = 255;
  }
  return new ImageData(rgba, size, size);
}
