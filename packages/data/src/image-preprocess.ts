import { MllmError, NotRegularFileError } from '@mllm/core';
import { readRegularFile } from '@mllm/core/internal';
import { toModelInput } from './image-io';
import { decodeRgbLikePil } from './pil-decode';
import { DEFAULT_RESAMPLE, pilResize, type ResampleKernel, type RgbBytes } from './pil-resample';
import { loadSharp } from './sharp-loader';

export type { ResampleKernel } from './pil-resample';
export { DEFAULT_RESAMPLE } from './pil-resample';
export type Rgb = [number, number, number];

/**
 * How an image file becomes the encoder's input, following the encoder's own preprocessing:
 * - `crop`: resize the short side, then centre crop (CLIP; HF CLIPImageProcessor);
 * - `pad`: pad to the output's aspect ratio with the mean colour, then resize (LLaVA-1.5's
 *   expand2square with `image_aspect_ratio: pad`);
 * - `stretch`: resize to the output size, ignoring the aspect ratio (SigLIP; `loadImageFile`).
 * Decoding and resizing give the bytes PIL gives (`Image.open(f).convert("RGB")`, then
 * `Image.resize` with the same filter; see decodeRgbLikePil and pilResize), so the result is
 * the `pixel_values` of transformers' CLIPImageProcessor / SiglipImageProcessor, HWC instead of
 * CHW: x / 255 in [0, 1], then `(x - mean) / std` when either is given, in float32 as numpy does.
 */
export interface ImagePreprocessOptions {
  /** Output size; a number is a square. */
  size: number | { width: number; height: number };
  mode: 'crop' | 'pad' | 'stretch';
  /** `crop` only: the short side's length before the crop (CLIP's `size.shortest_edge`); default: just covers `size`. */
  shortestEdge?: number;
  mean?: Rgb;
  std?: Rgb;
  /** `pad` only, in [0, 1]: LLaVA pads with the normaliser's mean, so that is the default, else mid grey. */
  padColor?: Rgb;
  /** PIL's filter (HF `resample` 0-5); default DEFAULT_RESAMPLE (bicubic), as CLIP and SigLIP are trained. */
  resample?: ResampleKernel;
}

export interface ImageLimits {
  /** Images with more pixels are refused from their header, before decoding. Default 64e6 (8000 x 8000). */
  maxPixels?: number;
}

export const DEFAULT_MAX_PIXELS = 64e6;

/** An image that cannot be used; `reason` says why, without the source. */
export class ImageFileError extends MllmError {
  constructor(readonly source: string, readonly reason: string) {
    super(`${source}: ${reason}`);
  }
}

function describe(input: string | Buffer): string {
  return typeof input === 'string' ? input : `image buffer (${input.length} bytes)`;
}

/**
 * Image files are read whole, this size at most: an image within DEFAULT_MAX_PIXELS is under
 * 512 MiB even stored raw at 16 bits per RGBA channel, and a larger buffer would not be allocated.
 */
export const MAX_IMAGE_FILE_BYTES = 1 << 30;

/**
 * The bytes of an image file, read here rather than by the decoder: only a regular file is
 * opened (a FIFO would block the decoder's thread for ever, /dev/zero would never end), and the
 * handle that was checked is the one read. Every refusal is an ImageFileError naming the file.
 */
export async function readImageBytes(path: string): Promise<Buffer> {
  try {
    return await readRegularFile(path, { what: 'image file', maxBytes: MAX_IMAGE_FILE_BYTES });
  } catch (e) {
    if (e instanceof NotRegularFileError) throw new ImageFileError(path, `is ${e.kind}, not a regular file; image paths must name image files`);
    if (e instanceof MllmError) throw new ImageFileError(path, `is over ${MAX_IMAGE_FILE_BYTES} bytes; no image within the pixel limit is that large`);
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImageFileError(path, code === 'ENOENT' ? 'image file not found' : `image file cannot be read (${code ?? (e as Error).message})`);
  }
}

/** A path's bytes (see readImageBytes) or the buffer as given; sharp never opens a path itself. */
async function imageBytes(input: string | Buffer): Promise<Buffer> {
  return typeof input === 'string' ? readImageBytes(input) : input;
}

export function outputSize(options: ImagePreprocessOptions): { width: number; height: number } {
  const { width, height } = typeof options.size === 'number' ? { width: options.size, height: options.size } : options.size;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1))
    throw new MllmError(`image preprocessing: size must be positive integers, got ${JSON.stringify(options.size)}`);
  return { width, height };
}

/** Width, height and format from the file header; refuses images over the pixel limit without decoding them. */
export async function readImageHeader(input: string | Buffer, limits: ImageLimits = {}): Promise<{ width: number; height: number; format: string }> {
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  const bytes = await imageBytes(input);
  const sharp = await loadSharp();
  let meta;
  try {
    // lenient here: a damaged body is found when decoding; the header only has to give the size
    meta = await sharp(bytes, { limitInputPixels: false, failOn: 'none' }).metadata();
  } catch (e) {
    throw new ImageFileError(describe(input), `unreadable image (${(e as Error).message})`);
  }
  const { width, height, format } = meta;
  if (!width || !height) throw new ImageFileError(describe(input), 'unreadable image (no size in its header)');
  if (width * height > maxPixels)
    throw new ImageFileError(
      describe(input),
      `image is ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels}; downscale the file or raise maxPixels`,
    );
  return { width, height, format: format ?? 'unknown' };
}

/** Source region for `crop`: the resized size and the centre crop's offsets (HF center_crop: floor). */
function cropGeometry(src: { width: number; height: number }, out: { width: number; height: number }, shortestEdge?: number) {
  let width: number;
  let height: number;
  // a square crop with no shortestEdge is CLIP's usual shortest_edge == crop_size
  const edge = shortestEdge ?? (out.width === out.height ? out.width : undefined);
  if (edge !== undefined) {
    if (edge < Math.max(out.width, out.height))
      throw new MllmError(`image preprocessing: shortestEdge ${edge} is smaller than the crop ${out.width}x${out.height}; it must cover the crop`);
    // HF get_resize_output_image_size: the short side is exact, the long one int(size * long / short)
    const short = Math.min(src.width, src.height);
    const long = Math.floor((edge * Math.max(src.width, src.height)) / short);
    [width, height] = src.width <= src.height ? [edge, long] : [long, edge];
  } else {
    const scale = Math.max(out.width / src.width, out.height / src.height);
    width = Math.max(out.width, Math.floor(src.width * scale + 1e-9));
    height = Math.max(out.height, Math.floor(src.height * scale + 1e-9));
  }
  return { width, height, left: Math.floor((width - out.width) / 2), top: Math.floor((height - out.height) / 2) };
}

/** Padding for `pad`: the image pasted at floor((side - w) / 2) as expand2square does. */
function padGeometry(src: { width: number; height: number }, out: { width: number; height: number }) {
  const wide = src.width * out.height >= src.height * out.width;
  const width = wide ? src.width : Math.round((src.height * out.width) / out.height);
  const height = wide ? Math.round((src.width * out.height) / out.width) : src.height;
  const left = Math.floor((width - src.width) / 2);
  const top = Math.floor((height - src.height) / 2);
  return { left, top, right: width - src.width - left, bottom: height - src.height - top, width, height };
}

function cropBytes(image: RgbBytes, left: number, top: number, width: number, height: number): RgbBytes {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((y + top) * image.width + left) * 3;
    data.set(image.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { data, width, height };
}

/** expand2square's canvas: `colour` everywhere, the image pasted at (left, top). */
function padBytes(image: RgbBytes, g: ReturnType<typeof padGeometry>, colour: number[]): RgbBytes {
  const data = new Uint8Array(g.width * g.height * 3);
  for (let i = 0; i < g.width * g.height; i++) data.set(colour, i * 3);
  for (let y = 0; y < image.height; y++) data.set(image.data.subarray(y * image.width * 3, (y + 1) * image.width * 3), ((y + g.top) * g.width + g.left) * 3);
  return { data, width: g.width, height: g.height };
}

/** Decodes an image file or buffer (PNG, JPEG, WebP, ... whatever sharp reads) and preprocesses it: HWC RGB Float32Array. */
export async function preprocessImage(input: string | Buffer, options: ImagePreprocessOptions, limits: ImageLimits = {}): Promise<Float32Array> {
  const out = outputSize(options);
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  const bytes = await imageBytes(input);
  await readImageHeader(bytes, { maxPixels }).catch((e: unknown) => {
    throw e instanceof ImageFileError ? new ImageFileError(describe(input), e.reason) : e;
  });
  if (!['crop', 'pad', 'stretch'].includes(options.mode))
    throw new MllmError(`image preprocessing: unknown mode ${JSON.stringify(options.mode)}; one of crop, pad, stretch`);
  let image: RgbBytes;
  try {
    image = await decodeRgbLikePil(bytes, { maxPixels });
  } catch (e) {
    throw new ImageFileError(describe(input), `cannot decode image (${(e as Error).message})`);
  }
  const resample = options.resample ?? DEFAULT_RESAMPLE;
  if (options.mode === 'crop') {
    const g = cropGeometry(image, out, options.shortestEdge);
    image = cropBytes(pilResize(image, g.width, g.height, resample), g.left, g.top, out.width, out.height);
  } else if (options.mode === 'pad') {
    const g = padGeometry(image, out);
    // LLaVA's int(c * 255) of the mean
    const colour = (options.padColor ?? options.mean ?? [0.5, 0.5, 0.5]).map((c) => Math.floor(c * 255));
    if (g.width !== image.width || g.height !== image.height) image = padBytes(image, g, colour);
    image = pilResize(image, out.width, out.height, resample);
  } else {
    image = pilResize(image, out.width, out.height, resample);
  }
  return toModelInput(image, options.mean, options.std);
}
