import { DEFAULT_MAX_PIXELS, ImageFileError, loadImageFile, readImageBytes, readImageHeader } from '@mllm/data';

/** What sharp decodes in the build the data pipeline uses; anything else is refused from its first bytes. */
const READABLE_FORMATS = 'PNG, JPEG, WebP, GIF, AVIF, TIFF or SVG';

export interface ImageInputOptions {
  /** Side of the square the image is stretched to: the encoder's input size. */
  size: number;
  /** Images with more pixels are refused from their header, before decoding. Default DEFAULT_MAX_PIXELS, as for training data. */
  maxPixels?: number;
}

/**
 * Reads an image to ask a model about, with the checks training data gets (LlavaDataset and
 * `mllm lint-data`): the header is read first and an image over `maxPixels` is refused before
 * it is decoded; then it is decoded and stretched to size x size, HWC RGB in [0, 1], as
 * `loadImageFile` always did for chat. Every way a file can be unusable (missing, a folder, a
 * format sharp does not read, truncated or damaged, too large) is an ImageFileError whose
 * message names the file and what to do, so the CLI prints one line instead of a stack.
 */
export async function loadImageInput(source: string | Uint8Array, options: ImageInputOptions): Promise<Float32Array> {
  const name = typeof source === 'string' ? source : `image bytes (${source.byteLength} bytes)`;
  const input = typeof source === 'string' ? await readImageInput(source) : Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  let header: { width: number; height: number };
  try {
    // the limit is checked below, to say what a chat user can do about it
    header = await readImageHeader(input, { maxPixels: Infinity });
  } catch (e) {
    if (!(e instanceof ImageFileError)) throw e;
    if (/unsupported image format/i.test(e.reason))
      throw new ImageFileError(name, `not an image format that can be read (it reads ${READABLE_FORMATS}); save the image as PNG or JPEG`);
    throw new ImageFileError(name, `${e.reason}; the file is damaged: save the image again as PNG or JPEG`);
  }
  const { width, height } = header;
  if (width * height > maxPixels)
    throw new ImageFileError(name, `image is ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels} that training data has too; downscale it (the model sees it at ${options.size}x${options.size})`);
  try {
    return await loadImageFile(input, options.size);
  } catch (e) {
    const cause = (e as Error).message.split('\n')[0];
    throw new ImageFileError(name, `cannot decode the image (${cause}); the file is truncated or damaged: save the image again as PNG or JPEG`);
  }
}

/**
 * The image file's bytes, read once: only a regular file is opened (a FIFO or a device such as
 * /dev/zero is refused by what it is, without blocking), and a missing one is named as such.
 */
async function readImageInput(path: string): Promise<Buffer> {
  try {
    return await readImageBytes(path);
  } catch (e) {
    if (!(e instanceof ImageFileError)) throw e;
    if (/image file not found/.test(e.reason)) throw new ImageFileError(path, 'image file not found; check the path (relative paths start in the current folder)');
    if (/is a folder/.test(e.reason)) throw new ImageFileError(path, 'is a folder, not an image file; pass the path of a PNG or JPEG file');
    throw e;
  }
}
