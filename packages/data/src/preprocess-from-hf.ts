import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '@mllm/core';
import type { ImagePreprocessOptions, Rgb } from './image-preprocess';
import { PIL_RESAMPLE_CODES, type ResampleKernel } from './pil-resample';

// transformers' image_utils constants: CLIP's defaults, and SigLIP's IMAGENET_STANDARD_*
const OPENAI_CLIP_MEAN: Rgb = [0.48145466, 0.4578275, 0.40821073];
const OPENAI_CLIP_STD: Rgb = [0.26862954, 0.26130258, 0.27577711];
const HALF: Rgb = [0.5, 0.5, 0.5];

const CLIP_TYPES = ['CLIPImageProcessor', 'CLIPImageProcessorFast', 'CLIPFeatureExtractor'];
const SIGLIP_TYPES = ['SiglipImageProcessor', 'SiglipImageProcessorFast'];

// PIL.Image.Resampling values as HF stores them -> the filter pilResize runs
const BY_CODE = new Map(Object.entries(PIL_RESAMPLE_CODES).map(([name, code]) => [code, name as ResampleKernel]));

const sizeSchema = z.union([
  z.number().int().positive(),
  z.object({ shortest_edge: z.number().int().positive() }).strict(),
  z.object({ height: z.number().int().positive(), width: z.number().int().positive() }).strict(),
  z.object({ longest_edge: z.number().int().positive() }).passthrough(),
]);
const colourSchema = z.union([z.number(), z.array(z.number()).length(3)]);

const hfSchema = z
  .object({
    image_processor_type: z.string().optional(),
    feature_extractor_type: z.string().optional(),
    do_resize: z.boolean().default(true),
    size: sizeSchema.optional(),
    resample: z.number().int().optional(),
    do_center_crop: z.boolean().optional(),
    crop_size: z.union([z.number().int().positive(), z.object({ height: z.number().int().positive(), width: z.number().int().positive() })]).optional(),
    do_rescale: z.boolean().default(true),
    rescale_factor: z.number().default(1 / 255),
    do_normalize: z.boolean().default(true),
    image_mean: colourSchema.optional(),
    image_std: colourSchema.optional(),
  })
  .passthrough();

function rgb(c: number | number[] | undefined, fallback: Rgb): Rgb {
  if (c === undefined) return fallback;
  return typeof c === 'number' ? [c, c, c] : [c[0]!, c[1]!, c[2]!];
}

export interface FromHfOptions {
  /** LLaVA's `image_aspect_ratio: "pad"` (model config, not preprocessor config): pad to square with the mean first. */
  imageAspectRatio?: 'pad';
}

/**
 * Reads an HF `preprocessor_config.json` (CLIPImageProcessor or SiglipImageProcessor) into
 * ImagePreprocessOptions, with transformers' defaults for missing keys. What cannot be honoured
 * exactly (no resize, a size that follows the image, other filters, no rescale by 1/255) is a
 * ConfigError naming the key, not an approximation.
 */
export function preprocessFromHf(json: unknown, options: FromHfOptions = {}): ImagePreprocessOptions {
  const parsed = hfSchema.safeParse(json);
  const fail = (path: string, message: string): never => {
    throw new ConfigError([{ path, message }], 'preprocessor_config.json cannot be used');
  };
  if (!parsed.success) {
    const issues: ConfigIssue[] = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new ConfigError(issues, 'preprocessor_config.json is invalid');
  }
  const c = parsed.data;
  const type = c.image_processor_type ?? c.feature_extractor_type;
  const isClip = type !== undefined && CLIP_TYPES.includes(type);
  const isSiglip = type !== undefined && SIGLIP_TYPES.includes(type);
  if (!isClip && !isSiglip)
    fail('image_processor_type', `${type === undefined ? 'missing' : JSON.stringify(type)}; supported: ${[...CLIP_TYPES, ...SIGLIP_TYPES].join(', ')}`);
  if (!c.do_resize) fail('do_resize', 'is false: images would keep their own size, but the encoder takes a fixed size');
  if (!c.do_rescale || Math.abs(c.rescale_factor * 255 - 1) > 1e-6)
    fail(c.do_rescale ? 'rescale_factor' : 'do_rescale', `pixels are always rescaled by 1/255 here; got do_rescale ${c.do_rescale}, rescale_factor ${c.rescale_factor}`);
  // CLIPImageProcessor's and SiglipImageProcessor's default: BICUBIC
  const resample = BY_CODE.get(c.resample ?? 3);
  if (resample === undefined)
    fail('resample', `${c.resample} is not a PIL filter; use one of ${[...BY_CODE].map(([code, name]) => `${code} (${name})`).join(', ')}`);
  const normalise = c.do_normalize
    ? { mean: rgb(c.image_mean, isClip ? OPENAI_CLIP_MEAN : HALF), std: rgb(c.image_std, isClip ? OPENAI_CLIP_STD : HALF) }
    : {};
  const base = { resample: resample!, ...normalise };

  const size = c.size ?? (isClip ? { shortest_edge: 224 } : { height: 224, width: 224 });
  if (typeof size === 'object' && 'longest_edge' in size) fail('size', 'longest_edge is not supported; the encoder needs a fixed output size');
  let result: ImagePreprocessOptions;
  const crop = isClip && (c.do_center_crop ?? true);
  if (!crop) {
    // SigLIP, or CLIP without the crop: a fixed size stretches; a shortest edge would leave the size to the image
    if (typeof size === 'number' || 'shortest_edge' in size)
      fail('size', `${JSON.stringify(size)} without a centre crop gives a size that follows the image's aspect ratio; the encoder needs a fixed size`);
    const { height, width } = size as { height: number; width: number };
    result = { size: height === width ? width : { width, height }, mode: 'stretch', ...base };
  } else {
    const cs = c.crop_size ?? 224;
    const out = typeof cs === 'number' ? { width: cs, height: cs } : cs;
    const outSize = out.width === out.height ? out.width : out;
    if (typeof size === 'object' && 'height' in size) {
      // a fixed resize then a crop: only the crop that takes the whole image is honoured
      if (size.height !== out.height || size.width !== out.width)
        fail('crop_size', `${out.width}x${out.height} after a fixed resize to ${size.width}x${size.height} is not supported; make them equal`);
      result = { size: outSize, mode: 'stretch', ...base };
    } else {
      const shortest = typeof size === 'number' ? size : (size as { shortest_edge: number }).shortest_edge;
      if (shortest < Math.max(out.width, out.height))
        fail('size', `shortest_edge ${shortest} is smaller than crop_size ${out.width}x${out.height}; transformers would pad with zeros, which is not supported`);
      const exact = out.width === out.height && shortest === out.width;
      result = { size: outSize, mode: 'crop', ...(exact ? {} : { shortestEdge: shortest }), ...base };
    }
  }
  if (options.imageAspectRatio === 'pad') {
    // expand2square makes a square, which the CLIP processor then resizes and crops: the same as a plain resize only when nothing is cut
    if (result.mode === 'crop' && result.shortestEdge !== undefined) fail('size', `shortest_edge ${result.shortestEdge} != crop_size: padding then cropping is not supported`);
    result = { ...result, mode: 'pad', padColor: normalise.mean ?? rgb(c.image_mean, isClip ? OPENAI_CLIP_MEAN : HALF) };
  }
  return result;
}
