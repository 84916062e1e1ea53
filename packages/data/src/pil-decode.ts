import { loadSharp } from './sharp-loader';
import type { RgbBytes } from './pil-resample';

export interface DecodeOptions {
  /** sharp's `limitInputPixels`: decoding stops past this many pixels. Default: sharp's own (about 268M). */
  maxPixels?: number;
}

/**
 * Decodes an image file's bytes to 8-bit RGB the way `PIL.Image.open(f).convert("RGB")` does,
 * which is what LLaVA's loaders and transformers' `load_image` + `convert_rgb` give the image
 * processors:
 * - no colour management: an embedded ICC profile is ignored (PIL only carries it in `info`);
 * - alpha is dropped, not composited (RGBA, LA, a paletted image with transparency);
 * - greyscale is copied to the three channels, a palette is looked up;
 * - 16-bit RGB keeps the high byte of each sample (libvips shifts by 8, as PIL's unpacker does);
 * - 16-bit greyscale is PIL's mode "I", whose conversion clips at 255 instead of scaling;
 * - CMYK uses PIL's naive formula (R = (255 - K) - C (255 - K) / 255), not a CMYK profile.
 * EXIF orientation is not applied, as PIL.Image.open does not (transformers' load_image does:
 * rotate such files before training on them if the Python side loads them that way).
 */
export async function decodeRgbLikePil(bytes: Buffer, options: DecodeOptions = {}): Promise<RgbBytes> {
  const sharp = await loadSharp();
  const open = () => sharp(bytes, { ignoreIcc: true, ...(options.maxPixels !== undefined && { limitInputPixels: options.maxPixels }) });
  const meta = await open().metadata();
  if (meta.space === 'cmyk') {
    const { data, info } = await open().pipelineColourspace('cmyk').toColourspace('cmyk').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { data: cmykToRgb(data, info.channels), width: info.width, height: info.height };
  }
  if (meta.space === 'grey16' && meta.channels === 1) {
    const { data, info } = await open().toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
    const samples = new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
    const rgb = new Uint8Array(samples.length * 3);
    for (let i = 0; i < samples.length; i++) rgb.fill(Math.min(255, samples[i]!), i * 3, i * 3 + 3);
    return { data: rgb, width: info.width, height: info.height };
  }
  const { data, info } = await open().removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 colour channels after decoding, got ${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** Pillow's cmyk2rgb (Convert.c): with nk = 255 - K, each channel is nk - C * nk / 255, the division rounded as MULDIV255 does. */
function cmykToRgb(cmyk: Uint8Array, channels: number): Uint8Array {
  const n = cmyk.length / channels;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const nk = 255 - cmyk[i * channels + 3]!;
    for (let c = 0; c < 3; c++) {
      const t = cmyk[i * channels + c]! * nk + 128;
      rgb[i * 3 + c] = Math.max(0, nk - (((t >> 8) + t) >> 8));
    }
  }
  return rgb;
}
