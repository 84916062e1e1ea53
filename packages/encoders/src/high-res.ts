import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { MllmError, Module, type Rng, type TokenGrid, type VisionEncoder } from '@mllm/core';
import { downsample, extractTiles, selectGrid, type GridShape, type TileLayout } from './tile-grid';

const gridShape = z.tuple([z.number().int().min(1), z.number().int().min(1)]);

/**
 * How an encoder with a small native resolution sees a larger image. Nested in the encoder's
 * config because it changes what the encoder returns (tokens per image), not the data.
 */
export const highResSchema = z
  .object({
    /** `resize`: one view, the input area-averaged down to the encoder's resolution. `tiles`: AnyRes. */
    strategy: z.enum(['resize', 'tiles']),
    /**
     * Side of the square image the model takes (what the Shapes world renders); a multiple k
     * of the encoder's imageSize. `tiles` cuts it with the [k, k] grid.
     */
    inputSize: z.number().int().min(4),
    /** `tiles`: allowed [rows, cols] grids for images of other aspect ratios (LLaVA-NeXT's grid pinpoints). */
    grids: z
      .array(gridShape)
      .min(1)
      .default([
        [1, 1],
        [1, 2],
        [2, 1],
        [2, 2],
      ]),
    /** `tiles`: also encode the whole image downsampled to one tile (the global view AnyRes keeps). */
    thumbnail: z.boolean().default(true),
    /**
     * Merge each m x m block of neighbouring tokens into one of m*m*D channels (pixel shuffle:
     * InternVL; Qwen2-VL's 2 x 2 merger), in every view (tiles, thumbnail, or the resized one).
     * Fewer tokens, and a merged token holds what the block saw together (an object on a patch
     * corner is split over 4 patches).
     */
    merge: z.number().int().min(1).default(1),
  })
  .strict();

export type HighResConfig = z.output<typeof highResSchema>;

/**
 * Cross-field checks against the encoder's own resolution, as zod issues on `highRes.*`, so a
 * config error names the field and the fix.
 */
export function highResIssues(highRes: HighResConfig, imageSize: number, includeCls: boolean, patchGrid?: number): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  const { inputSize, grids, strategy } = highRes;
  if (inputSize % imageSize !== 0) {
    issues.push({ path: ['highRes', 'inputSize'], message: `must be a multiple of imageSize ${imageSize} (e.g. ${imageSize * Math.max(2, Math.round(inputSize / imageSize))}), got ${inputSize}` });
    return issues;
  }
  if (patchGrid !== undefined && patchGrid % highRes.merge !== 0)
    issues.push({ path: ['highRes', 'merge'], message: `must divide the ${patchGrid} x ${patchGrid} patch grid of a view, got ${highRes.merge}` });
  if (strategy !== 'tiles') {
    if (includeCls && highRes.merge > 1) issues.push({ path: ['includeCls'], message: 'merge folds one patch grid; set includeCls to false' });
    return issues;
  }
  const k = inputSize / imageSize;
  const keys = grids.map(([r, c]) => `${r}x${c}`);
  if (new Set(keys).size !== keys.length) issues.push({ path: ['highRes', 'grids'], message: `list each grid once, got ${keys.join(', ')}` });
  if (!grids.some(([r, c]) => r === k && c === k))
    issues.push({
      path: ['highRes', 'grids'],
      message: `a ${inputSize} px square input is ${k}x${k} tiles of ${imageSize} px, but grids [${keys.join(', ')}] has no [${k}, ${k}]; add it or change inputSize`,
    });
  if (includeCls) issues.push({ path: ['includeCls'], message: 'tiles are laid out as one patch grid; set includeCls to false' });
  return issues;
}

/**
 * The canvas an image of width x height must be resized (aspect kept) and padded to before
 * the encoder tiles it, and the grid it will be cut with; for `resize`, the square input.
 * For preprocessing file datasets from the config alone.
 */
export function highResInputSize(width: number, height: number, encoder: { imageSize: number; highRes?: HighResConfig }): TileLayout {
  const { imageSize, highRes } = encoder;
  if (!highRes) return { rows: 1, cols: 1, width: imageSize, height: imageSize };
  if (highRes.strategy === 'resize') return { rows: 1, cols: 1, width: highRes.inputSize, height: highRes.inputSize };
  return selectGrid(width, height, highRes.grids as GridShape[], imageSize);
}

/**
 * High-resolution wrapper around a low-resolution encoder. `resize`: the input area-averaged to
 * the encoder's side, one view. `tiles`: LLaVA-NeXT's AnyRes (Liu et al., "LLaVA-NeXT", 2024;
 * HF LlavaNextForConditionalGeneration.pack_image_features): the tiles' patch grids are stitched
 * into one (rows*g) x (cols*g) feature map, a learned `image_newline` closes each of its rows,
 * and the thumbnail's g x g tokens come first. Parameters: the base encoder under
 * `vision_model` (HF CLIPVisionModel's name), the separator as `image_newline`.
 * Shapes: B batch, t tile side, g patches per tile side, D width.
 */
export class HighResEncoder extends Module implements VisionEncoder {
  readonly kind = 'vision-encoder' as const;
  readonly strategy: 'resize' | 'tiles';
  /** Patch grid side of one tile (g). */
  readonly tileGrid: number;
  readonly imageNewline?: tf.Variable; // [D]

  get trainedWithConnector(): readonly tf.Variable[] {
    return this.imageNewline ? [this.imageNewline] : [];
  }

  constructor(
    readonly base: VisionEncoder,
    readonly config: HighResConfig,
    rng: Rng,
  ) {
    super();
    this.strategy = config.strategy;
    this.tileGrid = Math.round(Math.sqrt(base.numTokens));
    const issues = highResIssues(config, base.imageSize, false, this.tileGrid);
    if (issues.length) throw new MllmError(`highRes: ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    if ((this.strategy === 'tiles' || config.merge > 1) && this.tileGrid * this.tileGrid !== base.numTokens)
      throw new MllmError(`highRes ${this.strategy}${config.merge > 1 ? ` with merge ${config.merge}` : ''}: the base encoder must return a square patch grid without CLS, got ${base.numTokens} tokens`);
    this.add('vision_model', base);
    // LLaVA-NeXT's init: randn * 1/sqrt(D), a marker as large as a unit-scale feature.
    if (this.strategy === 'tiles') this.imageNewline = this.param('image_newline', tf.tidy(() => tf.tensor1d(Array.from({ length: this.outputDim }, () => rng.normal() / Math.sqrt(this.outputDim)))));
  }

  /** Side of the square image this encoder takes. */
  get imageSize(): number {
    return this.config.inputSize;
  }
  /** m*m*D with `merge` m. */
  get outputDim(): number {
    return this.base.outputDim * this.config.merge ** 2;
  }
  /** Token grid side of one view after merging (g / m). */
  private get side(): number {
    return this.tileGrid / this.config.merge;
  }
  /** Tokens per image of the square input. */
  get numTokens(): number {
    const k = this.config.inputSize / this.base.imageSize;
    return this.tokensFor(k, k);
  }
  /**
   * `resize`: the one view's grid (merged to g / m a side with `merge`). `tiles`: none, since the
   * thumbnail comes first, a separator closes every row, and other aspect ratios change the layout.
   */
  get pixelNormalization(): VisionEncoder['pixelNormalization'] {
    return this.base.pixelNormalization;
  }
  get tokenGrid(): TokenGrid | undefined {
    if (this.strategy === 'tiles') return undefined;
    if (this.config.merge > 1) return { rows: this.side, columns: this.side, leading: 0, trailing: 0 };
    return this.base.tokenGrid;
  }
  /** Patch-grid tokens of the square input, without thumbnail or separators (see gridTokens). */
  get gridTokenCount(): number {
    const k = this.config.inputSize / this.base.imageSize;
    return this.strategy === 'tiles' ? (k * this.side) ** 2 : this.resizedTokens;
  }

  /** Tokens of the resized view: the base encoder's, or its merged grid. */
  private get resizedTokens(): number {
    return this.config.merge > 1 ? this.side ** 2 : this.base.numTokens;
  }

  /** Tokens for an image cut into rows x cols tiles: thumbnail g^2, then rows*g lines of cols*g tokens plus a separator (g after merging). */
  tokensFor(rows: number, cols: number): number {
    if (this.strategy === 'resize') return this.resizedTokens;
    const g = this.side;
    return (this.config.thumbnail ? g * g : 0) + rows * g * (cols * g + 1);
  }

  /** Tokens for an input canvas of height x width (an allowed grid's canvas, or the square input); throws for another. */
  tokensForCanvas(height: number, width: number): number {
    const { rows, cols } = this.gridOfShape(height, width, 3);
    return this.tokensFor(rows, cols);
  }

  /** The canvas to resize (aspect kept) and pad an image of width x height to: its grid's for `tiles`, the square input for `resize`. */
  canvasFor(width: number, height: number): { width: number; height: number } {
    const { width: w, height: h } = this.layoutFor(width, height);
    return { width: w, height: h };
  }

  /** Grid, canvas and token count for an image of width x height (see highResInputSize). */
  layoutFor(width: number, height: number): TileLayout & { tokens: number } {
    const layout = highResInputSize(width, height, { imageSize: this.base.imageSize, highRes: this.config });
    return { ...layout, tokens: this.tokensFor(layout.rows, layout.cols) };
  }

  /** pixels [B, H, W, C] -> [B, M, D], M = numTokens for the square input, tokensFor(rows, cols) for another grid's canvas. */
  encode(pixels: tf.Tensor4D): tf.Tensor3D {
    const { rows, cols } = this.gridOf(pixels);
    return tf.tidy(() => {
      if (this.strategy === 'resize') return this.resizedView(pixels);
      const [b] = pixels.shape;
      const g = this.side;
      const d = this.outputDim;
      const map = this.tileMap(pixels, rows, cols); // [B, rows*g, cols*g, D]
      const newline = this.imageNewline!.reshape([1, 1, 1, d]).mul(tf.ones([b, rows * g, 1, 1]));
      const lines = tf.concat([map, newline], 2).reshape([b, rows * g * (cols * g + 1), d]); // [B, rows*g*(cols*g+1), D]
      if (!this.config.thumbnail) return lines as tf.Tensor3D;
      const t = this.tileGrid;
      const thumb = this.merged(this.base.encode(downsample(pixels, rows, cols)).reshape([b, t, t, this.base.outputDim]) as tf.Tensor4D).reshape([b, g * g, d]); // [B, g*g, D]
      return tf.concat([thumb, lines], 1) as tf.Tensor3D;
    });
  }

  /**
   * The spatial tokens alone as one patch grid [B, G*G, D] in raster order (the tile map for
   * `tiles`, the single view for `resize`), for dense pre-training objectives such as the
   * Shapes world's regions loss: each strategy is pre-trained on the view it reads.
   */
  gridTokens(pixels: tf.Tensor4D): tf.Tensor3D {
    const { rows, cols } = this.gridOf(pixels);
    return tf.tidy(() => {
      if (this.strategy === 'resize') return this.resizedView(pixels);
      const [b] = pixels.shape;
      return this.tileMap(pixels, rows, cols).reshape([b, rows * cols * this.side ** 2, this.outputDim]) as tf.Tensor3D;
    });
  }

  /** One vector per image: the resized view's, or the mean over tiles and thumbnail. */
  pooled(pixels: tf.Tensor4D): tf.Tensor2D {
    const { rows, cols } = this.gridOf(pixels);
    if (this.outputDim !== this.base.outputDim)
      throw new MllmError(`highRes ${this.strategy} with merge ${this.config.merge}: tokens are ${this.outputDim} wide but pooled() is ${this.base.outputDim}; pre-train with the regions objective, or use merge 1 for contrastive`);
    return tf.tidy(() => {
      if (this.strategy === 'resize') return this.base.pooled(this.resized(pixels));
      const [b] = pixels.shape;
      const d = this.base.outputDim;
      const views = [this.base.pooled(extractTiles(pixels, rows, cols)).reshape([b, rows * cols, d])];
      if (this.config.thumbnail) views.push(this.base.pooled(downsample(pixels, rows, cols)).reshape([b, 1, d]));
      return tf.concat(views, 1).mean(1) as tf.Tensor2D;
    });
  }

  /** Tiles' patch tokens stitched into one map [B, rows*g, cols*g, D] (HF pack_image_features' unpadded layout), then merged. */
  private tileMap(pixels: tf.Tensor4D, rows: number, cols: number): tf.Tensor4D {
    const [b] = pixels.shape;
    const g = this.tileGrid;
    const d = this.base.outputDim;
    const tiles = this.base.encode(extractTiles(pixels, rows, cols)); // [B*rows*cols, g*g, D]
    const map = tiles
      .reshape([b, rows, cols, g, g, d])
      .transpose([0, 1, 3, 2, 4, 5]) // [B, rows, g, cols, g, D]
      .reshape([b, rows * g, cols * g, d]) as tf.Tensor4D;
    return this.merged(map);
  }

  /** Pixel shuffle: map [B, H, W, D] -> [B, H/m, W/m, m*m*D], channels in (row, column, D) order within a block. */
  private merged(map: tf.Tensor4D): tf.Tensor4D {
    const m = this.config.merge;
    if (m === 1) return map;
    const [b, h, w, d] = map.shape;
    return map
      .reshape([b, h / m, m, w / m, m, d])
      .transpose([0, 1, 3, 2, 4, 5]) // [B, H/m, W/m, m, m, D]
      .reshape([b, h / m, w / m, m * m * d]) as tf.Tensor4D;
  }

  /** The resized view's tokens [B, M, D], merged when asked. */
  private resizedView(pixels: tf.Tensor4D): tf.Tensor3D {
    const tokens = this.base.encode(this.resized(pixels));
    if (this.config.merge === 1) return tokens;
    const [b] = pixels.shape;
    const t = this.tileGrid;
    return this.merged(tokens.reshape([b, t, t, this.base.outputDim]) as tf.Tensor4D).reshape([b, this.side ** 2, this.outputDim]) as tf.Tensor3D;
  }

  private resized(pixels: tf.Tensor4D): tf.Tensor4D {
    const f = this.config.inputSize / this.base.imageSize;
    return downsample(pixels, f);
  }

  /** The grid an input's shape implies; throws when it is not a canvas this encoder takes. */
  private gridOf(pixels: tf.Tensor4D): { rows: number; cols: number } {
    const [, h, w, c] = pixels.shape;
    return this.gridOfShape(h, w, c);
  }

  private gridOfShape(h: number, w: number, c: number): { rows: number; cols: number } {
    const t = this.base.imageSize;
    const { inputSize, grids } = this.config;
    if (this.strategy === 'resize') {
      if (h !== inputSize || w !== inputSize || c !== 3)
        throw new MllmError(`highRes resize: expected pixels [B, ${inputSize}, ${inputSize}, 3], got [B, ${h}, ${w}, ${c}]; render or preprocess images at highRes.inputSize`);
      return { rows: 1, cols: 1 };
    }
    const rows = h / t;
    const cols = w / t;
    if (c !== 3 || !grids.some(([r, cc]) => r === rows && cc === cols))
      throw new MllmError(
        `highRes tiles: a ${h}x${w}x${c} input is not the canvas of an allowed grid (${grids.map(([r, cc]) => `${r * t}x${cc * t}`).join(', ')}, 3 channels); preprocess it to highResInputSize(width, height, encoder)`,
      );
    return { rows, cols };
  }
}
