import { MllmError } from '@mllm/core';

/**
 * Pillow's resampling filters, by the names of PIL.Image.Resampling; `PIL_RESAMPLE_CODES` gives
 * the integer an HF `preprocessor_config.json` stores as `resample`.
 */
export type ResampleKernel = 'nearest' | 'lanczos' | 'bilinear' | 'bicubic' | 'box' | 'hamming';

export const PIL_RESAMPLE_CODES: Readonly<Record<ResampleKernel, number>> = { nearest: 0, lanczos: 1, bilinear: 2, bicubic: 3, box: 4, hamming: 5 };

/**
 * The filter every image a model sees is resized with unless its config names another: training
 * data (preprocessImage), chat (loadImageFile) and the `resample` the ONNX export declares in
 * preprocessor_config.json (3). Bicubic, as CLIP and SigLIP processors are configured.
 */
export const DEFAULT_RESAMPLE: ResampleKernel = 'bicubic';

/** Packed 8-bit RGB, row-major, 3 bytes a pixel (what PIL's `np.array(image.convert("RGB"))` holds). */
export interface RgbBytes {
  data: Uint8Array;
  width: number;
  height: number;
}

interface Filter {
  weight(x: number): number;
  /** Half-width in source pixels at scale 1. */
  support: number;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

// Pillow's constants are float literals (0.54f) promoted to double: the same here, or coefficients drift by an ulp
const HAMMING_A = Math.fround(0.54);
const HAMMING_B = Math.fround(0.46);

// Resample.c's filters, term for term (their edges decide which source pixels a coefficient reaches)
const FILTERS: Record<Exclude<ResampleKernel, 'nearest'>, Filter> = {
  box: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: { support: 1, weight: (x) => Math.max(0, 1 - Math.abs(x)) },
  hamming: {
    support: 1,
    weight: (x) => {
      const a = Math.abs(x);
      if (a === 0) return 1;
      if (a >= 1) return 0;
      const px = a * Math.PI;
      return (Math.sin(px) / px) * (HAMMING_A + HAMMING_B * Math.cos(px));
    },
  },
  bicubic: {
    // Keys' cubic with a = -0.5
    support: 2,
    weight: (x) => {
      const a = Math.abs(x);
      if (a < 1) return (1.5 * a - 2.5) * a * a + 1;
      if (a < 2) return (((a - 5) * a + 8) * a - 4) * -0.5;
      return 0;
    },
  },
  lanczos: { support: 3, weight: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

/** 8-bit results with 2 bits of headroom for the negative lobes: coefficients are fixed-point with 22 fraction bits. */
const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);

/**
 * Per output pixel along one axis: the first source pixel, how many are used, and their
 * fixed-point weights (ksize apart). The weights are integers held as doubles: sums of their
 * products with bytes stay far below 2^53, so they are exact; with int32 arithmetic (`| 0`) V8
 * ran the loops at half speed once several filters and sizes had gone through them.
 */
interface Coefficients {
  first: Int32Array;
  count: Int32Array;
  weights: Float64Array;
  ksize: number;
}

/**
 * Resample.c's precompute_coeffs + normalize_coeffs_8bpc: the filter is stretched by the
 * reduction factor (never shrunk when enlarging), centred on each output pixel's centre in
 * source coordinates, normalised to sum 1, then rounded half away from zero to fixed point.
 */
function coefficients(inSize: number, outSize: number, filter: Filter): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.weight((x + xmin - center + 0.5) * ss);
      k[x] = w;
      sum += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = sum !== 0 ? k[x]! / sum : k[x]!;
      weights[xx * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
    }
    first[xx] = xmin;
    count[xx] = xmax;
  }
  return { first, count, weights, ksize };
}

/** The sum's integer part in 8 bits, clamped: Resample.c's clip8 (its table covers every sum a filter can give). */
function clip8(sum: number): number {
  const v = sum >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Horizontal pass over source rows [rowStart, rowStart + rows): width changes, height is `rows`. */
function resampleRows(src: RgbBytes, rowStart: number, rows: number, outWidth: number, c: Coefficients): RgbBytes {
  const out = new Uint8Array(outWidth * rows * 3);
  const { data } = src;
  const { first, count, weights, ksize } = c;
  for (let y = 0; y < rows; y++) {
    const rowOffset = (y + rowStart) * src.width * 3;
    for (let xx = 0; xx < outWidth; xx++) {
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      const kBase = xx * ksize;
      let p = rowOffset + first[xx]! * 3;
      const n = count[xx]!;
      for (let x = 0; x < n; x++, p += 3) {
        const w = weights[kBase + x]!;
        s0 += data[p]! * w;
        s1 += data[p + 1]! * w;
        s2 += data[p + 2]! * w;
      }
      const o = (y * outWidth + xx) * 3;
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
    }
  }
  return { data: out, width: outWidth, height: rows };
}

/** Vertical pass; `first` is relative to the rows `src` holds. */
function resampleColumns(src: RgbBytes, outHeight: number, c: Coefficients, rowShift: number): RgbBytes {
  const rowBytes = src.width * 3;
  const out = new Uint8Array(rowBytes * outHeight);
  const { data } = src;
  const { first, count, weights, ksize } = c;
  for (let yy = 0; yy < outHeight; yy++) {
    const kBase = yy * ksize;
    const start = (first[yy]! - rowShift) * rowBytes;
    const n = count[yy]!;
    const o = yy * rowBytes;
    for (let i = 0; i < rowBytes; i++) {
      let s = HALF;
      let p = start + i;
      for (let y = 0; y < n; y++, p += rowBytes) s += data[p]! * weights[kBase + y]!;
      out[o + i] = clip8(s);
    }
  }
  return { data: out, width: src.width, height: outHeight };
}

/**
 * Pillow's NEAREST resize (an affine scale, Geometry.c's ImagingScaleAffine): the source
 * coordinate of each output pixel's centre, accumulated step by step in double as Pillow does,
 * then truncated.
 */
function resizeNearest(src: RgbBytes, width: number, height: number): RgbBytes {
  const table = (inSize: number, outSize: number) => {
    const step = inSize / outSize;
    const index = new Int32Array(outSize);
    let pos = step * 0.5;
    for (let i = 0; i < outSize; i++, pos += step) index[i] = Math.min(inSize - 1, Math.trunc(pos));
    return index;
  };
  const xs = table(src.width, width);
  const ys = table(src.height, height);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = ys[y]! * src.width;
    for (let x = 0; x < width; x++) {
      const s = (row + xs[x]!) * 3;
      const o = (y * width + x) * 3;
      out[o] = src.data[s]!;
      out[o + 1] = src.data[s + 1]!;
      out[o + 2] = src.data[s + 2]!;
    }
  }
  return { data: out, width, height };
}

/**
 * `PIL.Image.resize((width, height), resample)` of an RGB image, as transformers' image
 * processors call it (no `reducing_gap`, whole-image box): the same bytes as Pillow for every
 * filter. Filtered resizes are separable, horizontal pass first; the intermediate is rounded to
 * 8 bits and only the rows the vertical pass reads are computed.
 */
export function pilResize(src: RgbBytes, width: number, height: number, resample: ResampleKernel): RgbBytes {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1))
    throw new MllmError(`pilResize: the output size must be positive integers, got ${width}x${height}`);
  if (src.data.length !== src.width * src.height * 3)
    throw new MllmError(`pilResize: ${src.width}x${src.height} RGB needs ${src.width * src.height * 3} bytes, got ${src.data.length}`);
  if (width === src.width && height === src.height) return { data: src.data.slice(), width, height };
  if (resample === 'nearest') return resizeNearest(src, width, height);
  const filter = FILTERS[resample];
  if (!filter) throw new MllmError(`pilResize: unknown resample ${JSON.stringify(resample)}; one of ${Object.keys(PIL_RESAMPLE_CODES).join(', ')}`);
  const vertical = coefficients(src.height, height, filter);
  let image = src;
  let rowShift = 0;
  if (width !== src.width) {
    const firstRow = vertical.first[0]!;
    const lastRow = vertical.first[height - 1]! + vertical.count[height - 1]!;
    image = resampleRows(src, firstRow, lastRow - firstRow, width, coefficients(src.width, width, filter));
    rowShift = firstRow;
  }
  if (height !== src.height) image = resampleColumns(image, height, vertical, rowShift);
  return image;
}
