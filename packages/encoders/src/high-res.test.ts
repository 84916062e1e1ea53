import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Registry, Rng, type EncoderContext, type VisionEncoder } from '@mllm/core';
import { checkParameterGradients } from '@mllm/core/testing';
import { HighResEncoder, highResInputSize, highResSchema } from './high-res';
import { VisionTransformer, vitSchema } from './vit';
import { registerEncoders } from './register';
import { downsample, extractTiles } from './tile-grid';

// Tiles of 16 px, patch 8: g = 2, 4 tokens per tile.
const vitConfig = { type: 'vit', imageSize: 16, patchSize: 8, dim: 8, layers: 2, heads: 2 } as const;

function build(highRes: Record<string, unknown>): { encoder: HighResEncoder; base: VisionTransformer } {
  const base = new VisionTransformer(vitSchema.parse(vitConfig), new Rng(1));
  return { encoder: new HighResEncoder(base, highResSchema.parse(highRes), new Rng(2)), base };
}

const pixels = (h: number, w: number, seed = 3) => tf.randomUniform([2, h, w, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(a.sub(b))).dataSync()[0]!;

describe('HighResEncoder: tiles (AnyRes)', () => {
  const { encoder, base } = build({ strategy: 'tiles', inputSize: 32 });

  it('reports tokens per image: thumbnail g^2 + rows*g lines of cols*g tokens and a separator', () => {
    expect(encoder.imageSize).toBe(32);
    expect(encoder.numTokens).toBe(4 + 4 * (4 + 1)); // 24
    expect(encoder.tokensFor(1, 2)).toBe(4 + 2 * (4 + 1));
    expect(encoder.tokensFor(2, 1)).toBe(4 + 4 * (2 + 1));
    expect(encoder.encode(pixels(32, 32)).shape).toEqual([2, 24, 8]);
    // a non-square image's canvas takes its own grid and token count
    expect(encoder.encode(pixels(16, 32)).shape).toEqual([2, encoder.tokensFor(1, 2), 8]);
    expect(encoder.layoutFor(100, 40)).toEqual({ rows: 1, cols: 2, width: 32, height: 16, tokens: 14 });
    // tokensForCanvas(height, width): what encode returns for that canvas, so batching can count without encoding
    for (const [h, w] of [[32, 32], [16, 32], [32, 16], [16, 16]]) expect(encoder.tokensForCanvas(h!, w!)).toBe(encoder.encode(pixels(h!, w!)).shape[1]);
    expect(() => encoder.tokensForCanvas(48, 16)).toThrow(/48x16x3 input is not the canvas of an allowed grid/);
    expect(encoder.canvasFor(100, 40)).toEqual({ width: 32, height: 16 });
    expect(encoder.canvasFor(40, 100)).toEqual({ width: 16, height: 32 });
    const { encoder: noThumb } = build({ strategy: 'tiles', inputSize: 32, thumbnail: false });
    expect(noThumb.numTokens).toBe(20);
    expect(noThumb.encode(pixels(32, 32)).shape).toEqual([2, 20, 8]);
  });

  it('lays out thumbnail, then each feature row of the stitched tiles followed by image_newline', () => {
    const x = pixels(32, 32);
    const out = encoder.encode(x).arraySync();
    const thumb = base.encode(downsample(x, 2)).arraySync();
    const tiles = base.encode(extractTiles(x, 2, 2)).arraySync(); // [B*4, 4, D]
    const newline = encoder.imageNewline!.arraySync() as number[];
    const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) < 1e-5);
    for (let b = 0; b < 2; b++) {
      for (let k = 0; k < 4; k++) expect(close(out[b]![k]!, thumb[b]![k]!)).toBe(true);
      for (let line = 0; line < 4; line++) {
        for (let col = 0; col < 4; col++) {
          const [r, y, c, x2] = [Math.floor(line / 2), line % 2, Math.floor(col / 2), col % 2];
          const token = tiles[(b * 2 + r) * 2 + c]![y * 2 + x2]!;
          expect(close(out[b]![4 + line * 5 + col]!, token)).toBe(true);
        }
        expect(close(out[b]![4 + line * 5 + 4]!, newline)).toBe(true);
      }
    }
  });

  it('gives the separator and the tower finite-difference-correct gradients', () => {
    const x = pixels(32, 32);
    const weights = tf.randomNormal([2, 24, 8], 0, 1, 'float32', 9);
    const loss = () => encoder.encode(x).mul(weights).sum() as tf.Scalar;
    const { grads } = tf.variableGrads(loss, [encoder.imageNewline!]);
    expect(tf.norm(grads[encoder.imageNewline!.name]!).dataSync()[0]).toBeGreaterThan(0);
    const patch = base.embeddings.patchWeight;
    const check = checkParameterGradients(loss, [encoder.imageNewline!, patch], { samples: 6 });
    expect(check.maxAbsError).toBeLessThan(5e-2);
  });

  it('gridTokens is the stitched tile map alone (what the regions objective reads)', () => {
    const x = pixels(32, 32);
    const grid = encoder.gridTokens(x);
    expect(grid.shape).toEqual([2, encoder.gridTokenCount, 8]);
    expect(encoder.gridTokenCount).toBe(16);
    const full = encoder.encode(x);
    // line 1 of the map = tokens 4..7 of the grid; in encode they follow the thumbnail and line 0 + its separator
    expect(maxDiff(grid.slice([0, 4, 0], [-1, 4, -1]), full.slice([0, 4 + 5, 0], [-1, 4, -1]))).toBeLessThan(1e-6);
  });

  it('names parameters as HF does: the tower under vision_model, the separator image_newline', () => {
    const names = Object.keys(encoder.stateDict());
    expect(names).toContain('image_newline');
    expect(names).toContain('vision_model.embeddings.patch_embedding.weight');
    expect(encoder.numParameters()).toBe(base.numParameters() + 8);
  });

  it('leaks no tensors', () => {
    const x = pixels(32, 32);
    const before = tf.memory().numTensors;
    encoder.encode(x).dispose();
    encoder.pooled(x).dispose();
    encoder.gridTokens(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a canvas that is no allowed grid', () => {
    expect(() => encoder.encode(pixels(48, 16))).toThrow(/not the canvas of an allowed grid.*highResInputSize/);
    expect(() => encoder.encode(tf.zeros([1, 32, 32, 1]) as tf.Tensor4D)).toThrow(/3 channels/);
  });
});

describe('HighResEncoder: tiles with merge (pixel shuffle)', () => {
  const { encoder, base } = build({ strategy: 'tiles', inputSize: 32, merge: 2 });

  it('merges each 2 x 2 block into one token of 4D channels: 1 thumbnail + 2 lines of (2 + separator)', () => {
    expect(encoder.outputDim).toBe(32);
    expect(encoder.numTokens).toBe(1 + 2 * (2 + 1));
    expect(encoder.gridTokenCount).toBe(4);
    const x = pixels(32, 32);
    const out = encoder.encode(x);
    expect(out.shape).toEqual([2, 7, 32]);
    // token of tile (r, c) = its 4 patch tokens concatenated in raster order
    const tiles = base.encode(extractTiles(x, 2, 2)).reshape([2, 4, 32]); // [B, tile, 4*D]
    expect(maxDiff(out.slice([0, 1, 0], [-1, 2, -1]), tiles.slice([0, 0, 0], [-1, 2, -1]))).toBeLessThan(1e-6); // line 0
    expect(maxDiff(out.slice([0, 4, 0], [-1, 2, -1]), tiles.slice([0, 2, 0], [-1, 2, -1]))).toBeLessThan(1e-6); // line 1
    expect(maxDiff(out.slice([0, 0, 0], [-1, 1, -1]), base.encode(downsample(x, 2)).reshape([2, 1, 32]))).toBeLessThan(1e-6);
    expect(maxDiff(encoder.gridTokens(x), tiles)).toBeLessThan(1e-6);
  });

  it('refuses pooled() (its width is the unmerged D) and a merge that does not divide the patch grid', () => {
    expect(() => encoder.pooled(pixels(32, 32))).toThrow(/merge 2.*regions objective/);
    expect(() => build({ strategy: 'tiles', inputSize: 32, merge: 3 })).toThrow(/merge.*divide the 2 x 2 patch grid/);
  });
});

describe('HighResEncoder: resize with merge', () => {
  const { encoder, base } = build({ strategy: 'resize', inputSize: 32, merge: 2 });

  it('merges the 2 x 2 patch grid of the resized view into one token of 4D channels, the same encoder underneath', () => {
    expect(encoder.outputDim).toBe(32);
    expect(encoder.numTokens).toBe(1);
    expect(encoder.tokensFor(1, 1)).toBe(1);
    expect(encoder.gridTokenCount).toBe(1);
    expect(encoder.numParameters()).toBe(base.numParameters()); // no separator: one view
    const x = pixels(32, 32);
    const view = base.encode(downsample(x, 2)); // [B, 4, D] in raster order
    expect(maxDiff(encoder.encode(x), view.reshape([2, 1, 32]))).toBeLessThan(1e-6);
    expect(maxDiff(encoder.gridTokens(x), view.reshape([2, 1, 32]))).toBeLessThan(1e-6);
    expect(() => encoder.pooled(x)).toThrow(/highRes resize with merge 2.*regions objective/);
  });

  it('keeps neighbouring patches together: on a 4 x 4 grid, token k holds the 2 x 2 block k in raster order', () => {
    const big = new VisionTransformer(vitSchema.parse({ ...vitConfig, imageSize: 32 }), new Rng(1));
    const merged = new HighResEncoder(big, highResSchema.parse({ strategy: 'resize', inputSize: 64, merge: 2 }), new Rng(2));
    const x = pixels(64, 64);
    const grid = big.encode(downsample(x, 2)).arraySync(); // [B, 16, D]
    const out = merged.encode(x).arraySync(); // [B, 4, 4D]
    expect(merged.numTokens).toBe(4);
    for (let b = 0; b < 2; b++)
      for (let k = 0; k < 4; k++) {
        const [br, bc] = [Math.floor(k / 2), k % 2];
        const block = [0, 1, 2, 3].flatMap((j) => grid[b]![(br * 2 + Math.floor(j / 2)) * 4 + bc * 2 + (j % 2)]!);
        expect(out[b]![k]!.every((v, i) => Math.abs(v - block[i]!) < 1e-5)).toBe(true);
      }
  });

  it('refuses a merge that does not divide the patch grid, and a CLS token', () => {
    expect(() => build({ strategy: 'resize', inputSize: 32, merge: 4 })).toThrow(/merge.*divide the 2 x 2 patch grid/);
    expect(vitSchema.safeParse({ ...vitConfig, includeCls: true, highRes: { strategy: 'resize', inputSize: 32, merge: 2 } }).error?.message).toMatch(/merge folds one patch grid; set includeCls to false/);
  });
});

describe('HighResEncoder: resize', () => {
  const { encoder, base } = build({ strategy: 'resize', inputSize: 32 });

  it('is the base encoder on the area-averaged image, 1 view', () => {
    const x = pixels(32, 32);
    expect(encoder.numTokens).toBe(base.numTokens);
    expect(encoder.imageNewline).toBeUndefined();
    expect(maxDiff(encoder.encode(x), base.encode(downsample(x, 2)))).toBeLessThan(1e-6);
    expect(maxDiff(encoder.gridTokens(x), base.encode(downsample(x, 2)))).toBeLessThan(1e-6);
    expect(maxDiff(encoder.pooled(x), base.pooled(downsample(x, 2)))).toBeLessThan(1e-6);
    expect(() => encoder.encode(pixels(16, 16))).toThrow(/expected pixels \[B, 32, 32, 3\].*highRes.inputSize/);
    expect(encoder.tokensForCanvas(32, 32)).toBe(base.numTokens);
    expect(() => encoder.tokensForCanvas(16, 32)).toThrow(/expected pixels \[B, 32, 32, 3\], got \[B, 16, 32, 3\]/);
  });
});

describe('vit config with highRes', () => {
  const registry = { encoders: new Registry<EncoderContext, VisionEncoder>('encoder') };
  registerEncoders(registry);
  const make = (highRes?: Record<string, unknown>) => registry.encoders.build({ ...vitConfig, ...(highRes && { highRes }) }, { rng: new Rng(1) });

  it('swapping the strategy keeps the VisionEncoder interface and the input size', () => {
    const x = pixels(32, 32);
    for (const strategy of ['resize', 'tiles'] as const) {
      const enc = make({ strategy, inputSize: 32 });
      expect(enc.strategy).toBe(strategy);
      expect(enc.imageSize).toBe(32);
      expect(enc.outputDim).toBe(8);
      expect(enc.encode(x).shape).toEqual([2, enc.numTokens, 8]);
      expect(enc.pooled(x).shape).toEqual([2, 8]);
      expect(enc.gridTokens!(x).shape).toEqual([2, enc.gridTokenCount!, 8]);
    }
    expect(make().strategy).toBe('resize');
    expect(make().imageSize).toBe(16);
  });

  it.each([
    [{ strategy: 'tiles', inputSize: 40 }, /highRes\.inputSize.*multiple of imageSize 16/],
    [{ strategy: 'resize', inputSize: 24 }, /highRes\.inputSize.*multiple/],
    [{ strategy: 'tiles', inputSize: 48, grids: [[1, 1], [2, 2]] }, /highRes\.grids.*3x3 tiles.*no \[3, 3\]/],
    [{ strategy: 'tiles', inputSize: 32, grids: [[2, 2], [2, 2]] }, /highRes\.grids.*each grid once/],
    [{ strategy: 'tiles', inputSize: 32, grids: [[0, 2]] }, /highRes\.grids/],
    [{ strategy: 'tiles', inputSize: 32, grids: [] }, /highRes\.grids/],
    [{ strategy: 'mosaic', inputSize: 32 }, /highRes\.strategy/],
    [{ strategy: 'tiles', inputSize: 32, tile: 3 }, /highRes/],
    [{ strategy: 'tiles', inputSize: 32, merge: 4 }, /highRes\.merge.*divide the 2 x 2 patch grid/],
  ])('rejects %o', (highRes, message) => {
    expect(() => make(highRes)).toThrow(message);
  });

  it('rejects tiles with a CLS token (the tiles are stitched as one patch grid)', () => {
    expect(() => registry.encoders.build({ ...vitConfig, includeCls: true, highRes: { strategy: 'tiles', inputSize: 32 } }, { rng: new Rng(1) })).toThrow(/includeCls.*false/);
  });
});

describe('highResInputSize', () => {
  it('gives the canvas a file image must be preprocessed to, from the config alone', () => {
    const encoder = vitSchema.parse({ ...vitConfig, highRes: { strategy: 'tiles', inputSize: 32 } });
    expect(highResInputSize(300, 120, encoder)).toEqual({ rows: 1, cols: 2, width: 32, height: 16 });
    expect(highResInputSize(120, 300, encoder)).toEqual({ rows: 2, cols: 1, width: 16, height: 32 });
    const resize = vitSchema.parse({ ...vitConfig, highRes: { strategy: 'resize', inputSize: 32 } });
    expect(highResInputSize(300, 120, resize)).toEqual({ rows: 1, cols: 1, width: 32, height: 32 });
    expect(highResInputSize(300, 120, vitSchema.parse(vitConfig))).toEqual({ rows: 1, cols: 1, width: 16, height: 16 });
  });
});
