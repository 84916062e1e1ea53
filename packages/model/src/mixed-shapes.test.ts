import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildModel, createComponentRegistry, collateTraining, collatePrompts, type ImageInput, type ModelImage } from './index';
import { placeImageTokens } from './splice';
import { greedyByRecompute } from './greedy-recompute.test-helper';

const IMAGE = 4;
const PAD = 0;
// 4 px tiles of 2x2 patches, 8 px square input: the [2, 2] grid; default grids add [1, 2] and [2, 1]
const tiledEncoder = { type: 'vit', imageSize: 4, patchSize: 2, dim: 8, layers: 1, heads: 2, highRes: { strategy: 'tiles', inputSize: 8 } };
const make = (connector: Record<string, unknown> = { type: 'mlp' }, encoder: Record<string, unknown> = tiledEncoder) =>
  buildModel({ encoder, connector, llm: { type: 'causal', dim: 16, layers: 1, heads: 2 } }, { registry: createComponentRegistry(), vocabSize: 12, special: { imageTokenId: IMAGE, padId: PAD }, seed: 1 });
const pixels = (height: number, width: number, seed: number) => Float32Array.from({ length: height * width * 3 }, (_, i) => (Math.sin(i * 0.37 + seed * 1.7) + 1) / 2);
const shaped = (height: number, width: number, seed: number): ImageInput => ({ pixels: pixels(height, width, seed), width, height });
const wide = shaped(4, 8, 1); // 1x2 tiles
const tall = shaped(8, 4, 2); // 2x1 tiles
const square = pixels(8, 8, 3); // bare: the 8 px square input, 2x2 tiles
const wide2 = shaped(4, 8, 4); // grouped with `wide`, so the groups' order is not the images' order
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0]!);
// g = 2 patches per tile side: thumbnail 4 tokens, then rows*2 lines of cols*2 tokens + a separator
const TOKENS = { wide: 4 + 2 * 5, tall: 4 + 4 * 3, square: 4 + 4 * 5 };
const samples = () => [
  { ids: [1, IMAGE, 7, IMAGE, 8, 2], lossMask: [0, 0, 0, 0, 1, 1], images: [wide, square] as ModelImage[] },
  { ids: [1, 7, IMAGE, 9, IMAGE], lossMask: [0, 0, 0, 1, 0], images: [tall, wide2] as ModelImage[] },
];

describe('images of several canvas shapes in one batch', () => {
  it('expands each <image> to its own image token count', () => {
    const model = make();
    expect([model.tokensFor(wide), model.tokensFor(tall), model.tokensFor(square)]).toEqual([TOKENS.wide, TOKENS.tall, TOKENS.square]);
    expect(model.tokensPerImage).toBe(TOKENS.square);
    const batch = collateTraining(samples(), model.batchOptions);
    expect(batch.slots).toEqual([{ row: 0, start: 1 }, { row: 0, start: 2 + TOKENS.wide }, { row: 1, start: 2 }, { row: 1, start: 3 + TOKENS.tall }]);
    expect(batch.inputIds[0]!.length).toBe(6 + TOKENS.wide + TOKENS.square - 2 - 1);
    expect(batch.inputIds[0]!.filter((id) => id === IMAGE).length).toBe(TOKENS.wide + TOKENS.square);
    expect(batch.inputIds[1]!.filter((id) => id === IMAGE).length).toBe(TOKENS.tall + TOKENS.wide);
  });

  it("puts each image's tokens at its <image>, as encoding that image alone gives", () => {
    const model = make();
    const batch = collateTraining(samples(), model.batchOptions);
    const embeds = model.embed(batch.inputIds, batch.images, batch.slots);
    const alone = (image: ModelImage) => model.encodeImages(model.imagesToTensor([image])).squeeze([0]);
    const span = (row: number, start: number, m: number) => embeds.slice([row, start, 0], [1, m, -1]).squeeze([0]);
    expect(maxDiff(span(0, 1, TOKENS.wide), alone(wide))).toBeLessThan(1e-5);
    expect(maxDiff(span(0, 2 + TOKENS.wide, TOKENS.square), alone(square))).toBeLessThan(1e-5);
    expect(maxDiff(span(1, 2, TOKENS.tall), alone(tall))).toBeLessThan(1e-5);
    expect(maxDiff(span(1, 3 + TOKENS.tall, TOKENS.wide), alone(wide2))).toBeLessThan(1e-5);
    // the text between them is the text embedding
    const seven = model.llm.embed(tf.tensor2d([[7]], [1, 1], 'int32')).reshape([1, -1]);
    expect(maxDiff(span(0, 1 + TOKENS.wide, 1), seven)).toBeLessThan(1e-6);
    expect(maxDiff(span(1, 1, 1), seven)).toBeLessThan(1e-6);
    // the same images in another batch order land at the same places
    const swapped = collateTraining([samples()[1]!, samples()[0]!], model.batchOptions);
    const again = model.embed(swapped.inputIds, swapped.images, swapped.slots);
    expect(maxDiff(again.slice([1, 0, 0], [1, batch.inputIds[0]!.length, -1]), embeds.slice([0, 0, 0], [1, -1, -1]))).toBeLessThan(1e-6);
  });

  it('gradient reaches the connector from every image', () => {
    const model = make();
    const batch = collateTraining(samples(), model.batchOptions);
    const vars = model.trainableParameters().filter(([n]) => /multi_modal_projector/.test(n)).map(([, p]) => p);
    const spans = [
      [0, 1, TOKENS.wide],
      [0, 2 + TOKENS.wide, TOKENS.square],
      [1, 2, TOKENS.tall],
      [1, 3 + TOKENS.tall, TOKENS.wide],
    ] as const;
    for (const [row, start, m] of spans) {
      // a loss that reads one image's positions only
      const { value, grads } = tf.variableGrads(() => model.embed(batch.inputIds, batch.images, batch.slots).slice([row, start, 0], [1, m, -1]).square().sum() as tf.Scalar, vars);
      expect(value.dataSync()[0]).toBeGreaterThan(0);
      const norm = tf.addN(Object.values(grads).map((g) => g.abs().sum())).dataSync()[0]!;
      expect(norm).toBeGreaterThan(0);
      expect(Number.isFinite(norm)).toBe(true);
    }
    const { grads } = tf.variableGrads(() => model.loss(batch), vars);
    for (const v of vars) expect(tf.abs(grads[v.name]!).sum().dataSync()[0]).toBeGreaterThan(0);
  });

  it('placeImageTokens with per-image lengths: value and hand-written gradient match a direct computation', () => {
    const lengths = [2, 3, 1];
    const slots = [{ row: 1, start: 0 }, { row: 0, start: 1 }, { row: 0, start: 5 }];
    const tokens = tf.randomNormal([6, 3]) as tf.Tensor2D;
    const weights = tf.randomNormal([2, 6, 3]);
    const out = placeImageTokens(tokens, slots, 2, 6, lengths);
    const t = tokens.arraySync();
    const expected = [0, 1].map(() => Array.from({ length: 6 }, () => [0, 0, 0]));
    let offset = 0;
    slots.forEach(({ row, start }, i) => {
      for (let j = 0; j < lengths[i]!; j++) expected[row]![start + j] = t[offset + j]!;
      offset += lengths[i]!;
    });
    expect(maxDiff(out, tf.tensor3d(expected))).toBeLessThan(1e-6);
    // d/dtokens sum(out * W): each token's row of W at the position it was placed
    const grad = tf.grad((x: tf.Tensor) => placeImageTokens(x as tf.Tensor2D, slots, 2, 6, lengths).mul(weights).sum())(tokens);
    const w = weights.arraySync() as number[][][];
    const expectedGrad: number[][] = [];
    slots.forEach(({ row, start }, i) => {
      for (let j = 0; j < lengths[i]!; j++) expectedGrad.push(w[row]![start + j]!);
    });
    expect(maxDiff(grad, tf.tensor2d(expectedGrad))).toBeLessThan(1e-6);
    expect(() => placeImageTokens(tokens, slots, 2, 6, [2, 3, 2])).toThrow(/6 image tokens but the lengths add up to 7/);
  });

  it('cached generation and forwardWithHidden take mixed shapes, matching greedy recompute', () => {
    const model = make();
    const prompts = samples();
    const cached = model.generate(prompts, { maxNewTokens: 4, stopTokens: [] });
    expect(cached).toEqual(greedyByRecompute(model, prompts, 4));
    const batch = collatePrompts(prompts, model.batchOptions);
    const { logits, hidden } = model.forwardWithHidden(batch);
    expect(logits.shape).toEqual([2, batch.inputIds[0]!.length, 12]);
    expect(hidden.shape).toEqual([2, batch.inputIds[0]!.length, 16]);
  });

  it('a query connector gives every shape its fixed token count', () => {
    const model = make({ type: 'qformer', numQueries: 3, heads: 2 });
    expect([model.tokensFor(wide), model.tokensFor(tall), model.tokensFor(square)]).toEqual([3, 3, 3]);
    const batch = collateTraining(samples(), model.batchOptions);
    expect(batch.slots).toEqual([{ row: 0, start: 1 }, { row: 0, start: 5 }, { row: 1, start: 2 }, { row: 1, start: 6 }]);
    const embeds = model.embed(batch.inputIds, batch.images, batch.slots);
    const alone = model.encodeImages(model.imagesToTensor([tall])).squeeze([0]);
    expect(maxDiff(embeds.slice([1, 2, 0], [1, 3, -1]).squeeze([0]), alone)).toBeLessThan(1e-5);
    expect(Number.isFinite(model.loss(batch).dataSync()[0]!)).toBe(true);
  });

  it('a fusion connector refuses mixed shapes, and an encoder without tiles refuses a non-square image, saying what to do', () => {
    const fusion = make({ type: 'gated-cross-attention', heads: 2, mlpRatio: 2 });
    const batch = collateTraining(samples(), fusion.batchOptions);
    expect(() => fusion.loss(batch)).toThrow(/fusion connector takes images of one canvas shape per batch, got 8x4, 8x8, 4x8/);
    expect(() => fusion.generate(samples(), { maxNewTokens: 1, stopTokens: [] })).toThrow(/one canvas shape per batch/);
    // one shape is fine
    const one = collateTraining([{ ids: [1, IMAGE, 7, 8], lossMask: [0, 0, 1, 1], images: [wide] }], fusion.batchOptions);
    expect(Number.isFinite(fusion.loss(one).dataSync()[0]!)).toBe(true);
    const plain = make({ type: 'mlp' }, { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 1, heads: 2 });
    expect(() => plain.collate(samples())).toThrow(/a 8x4 image, but this encoder takes only 8x8 images; .* highRes tiles/);
  });
});
