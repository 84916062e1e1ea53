import { describe, it, expect, beforeAll } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { BadSampleError } from '@mllm/data';
import { WordTokenizer } from '@mllm/tokenizer';
import { buildModel, createComponentRegistry, type ModelImage } from '@mllm/model';
import { llavaSourceSchema, mixtureSchema } from './data-mixture';
import { LlavaSources } from './llava-source';
import { stageSchema } from './run-config';
import { runStage } from './run-stage';
import { StageData } from './stage-data';
import { world } from './tiny-run.test-helper';

/** The square images this source decodes, as bare arrays. */
const bare = (image: ModelImage): Float32Array => {
  if (!(image instanceof Float32Array)) throw new Error(`expected a square image as a bare Float32Array, got ${image.width}x${image.height}`);
  return image;
};

const COLORS = { red: [220, 30, 30], green: [30, 200, 40], blue: [30, 40, 220], yellow: [230, 220, 30] } as const;
type Name = keyof typeof COLORS;

/** A real image file: a plain background with a centred square of another colour, PNG or JPEG, not square. */
async function writeImage(path: string, background: Name, square: Name, format: 'png' | 'jpeg'): Promise<void> {
  const [w, h] = format === 'png' ? [40, 28] : [36, 48];
  const rgb = (n: Name) => ({ r: COLORS[n][0], g: COLORS[n][1], b: COLORS[n][2] });
  const patch = await sharp({ create: { width: 12, height: 12, channels: 3, background: rgb(square) } }).png().toBuffer();
  const img = sharp({ create: { width: w, height: h, channels: 3, background: rgb(background) } }).composite([{ input: patch, gravity: 'centre' }]);
  await (format === 'png' ? img.png() : img.jpeg({ quality: 90 })).toFile(path);
}

let dir: string;
const names = Object.keys(COLORS) as Name[];

/**
 * A LLaVA-format folder: 12 single-image samples (PNG and JPEG) about the background and square
 * colours, one sample with two images, one text-only sample, and one whose image is missing.
 */
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mllm-llava-'));
  await mkdir(join(dir, 'img'));
  const lines: string[] = [];
  const files: string[] = [];
  let k = 0;
  for (const bg of names)
    for (const sq of names) {
      if (bg === sq) continue;
      const format = k % 2 === 0 ? 'png' : 'jpeg';
      const file = `${bg}-${sq}.${format === 'png' ? 'png' : 'jpg'}`;
      await writeImage(join(dir, 'img', file), bg, sq, format);
      files.push(file);
      lines.push(
        JSON.stringify({
          id: `s${k++}`,
          image: file,
          conversations: [
            { from: 'human', value: '<image>\nWhat color is the background?' },
            { from: 'gpt', value: `The background is ${bg}.` },
            { from: 'human', value: 'And the square in the middle?' },
            { from: 'gpt', value: `It is ${sq}.` },
          ],
        }),
      );
    }
  lines.push(
    JSON.stringify({
      id: 'two',
      images: [files[0], files[1]], // a PNG and a JPEG
      conversations: [
        { from: 'human', value: 'First image: <image>\nSecond image: <image>\nWhich backgrounds do they have?' },
        { from: 'gpt', value: 'The first is red, the second is red.' },
      ],
    }),
    JSON.stringify({ id: 'text', conversations: [{ from: 'human', value: 'Name a colour.' }, { from: 'gpt', value: 'Blue.' }] }),
    JSON.stringify({ id: 'gone', image: 'missing.png', conversations: [{ from: 'human', value: '<image>\nWhat is this?' }, { from: 'gpt', value: 'Nothing.' }] }),
  );
  await writeFile(join(dir, 'train.jsonl'), `${lines.join('\n')}\n`);
});

const source = (extra: Record<string, unknown> = {}) => llavaSourceSchema.parse({ source: 'llava', file: join(dir, 'train.jsonl'), images: join(dir, 'img'), onBadSample: 'skip', ...extra });

/** Tokenizer over the Shapes corpus plus the file's text (what `mllm run` does), and a tiny model over it. */
async function setup(sources = new LlavaSources()) {
  const tokenizer = WordTokenizer.train([...world.corpus(), ...(await sources.corpus([stageSchema.parse({ type: 'instruct', steps: 0, data: [source()] })]))]);
  const model = buildModel(
    { encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 1, heads: 2 }, connector: { type: 'mlp' }, llm: { type: 'causal', dim: 32, layers: 1, heads: 2 } },
    { registry: createComponentRegistry(), vocabSize: tokenizer.vocabSize, special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: 2 },
  );
  return { tokenizer, model, data: new StageData(world, tokenizer, 1, sources) };
}

describe('training on a LLaVA-format folder of real images', () => {
  it('trains a few steps on PNG and JPEG files: finite losses that fall; the bad record is skipped and reported', async () => {
    const sources = new LlavaSources();
    const { tokenizer, model, data } = await setup(sources);
    const stage = stageSchema.parse({ type: 'instruct', steps: 24, batchSize: 8, lr: 0.01, warmup: 2, evalEvery: 0, data: mixtureSchema.parse([source()]) });
    const losses: number[] = [];
    const result = await runStage(stage, 0, model, data, { onStep: (e) => void losses.push(e.loss) });
    expect(losses.every(Number.isFinite)).toBe(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
    expect(mean(losses.slice(-4))).toBeLessThan(0.7 * mean(losses.slice(0, 4)));
    expect(Number.isFinite(result.valLoss)).toBe(true);

    const samples = data.mixture(0)!.sources[0]!.train!;
    expect(samples).toHaveLength(14); // 12 single-image, the two-image one, the text-only one
    expect(samples.map((s) => s.images.length).sort()).toEqual([0, ...new Array(12).fill(1), 2]);
    for (const s of samples) for (const img of s.images) expect(bare(img).length).toBe(16 * 16 * 3);
    // every word of the file is in the vocabulary: nothing became <unk>
    expect(samples.flatMap((s) => s.ids)).not.toContain(tokenizer.special.unk);
    const skipped = sources.skipped()[join(dir, 'train.jsonl')]!;
    expect(skipped.count).toBe(1);
    expect(skipped.reasons[0]).toMatch(new RegExp(`train\\.jsonl:15: sample "gone": .*missing\\.png`));
  });

  it('decodes the real pixels: the red background of a PNG reads as red after resizing', async () => {
    const { data, model } = await setup();
    await data.prepareStage(stageSchema.parse({ type: 'instruct', steps: 0, data: [source()] }), 0, model);
    const first = bare(data.mixture(0)!.sources[0]!.train![0]!.images[0]!); // red-green.png
    expect(first[0]).toBeCloseTo(220 / 255, 1);
    expect(first[1]).toBeLessThan(0.2);
    const mid = (8 * 16 + 8) * 3;
    expect(first[mid + 1]).toBeGreaterThan(0.6); // the green square in the middle
  });

  it('a two-image sample places both images at their <image> slots, each changing only what follows it', async () => {
    const { data, model, tokenizer } = await setup();
    await data.prepareStage(stageSchema.parse({ type: 'instruct', steps: 0, data: [source()] }), 0, model);
    const sample = data.mixture(0)!.sources[0]!.train!.find((s) => s.images.length === 2)!;
    const batch = model.collate([sample]);
    const m = model.tokensPerImage;
    const imagePositions = batch.inputIds[0]!.flatMap((id, t) => (id === tokenizer.special.image ? [t] : []));
    expect(imagePositions).toHaveLength(2 * m);
    expect(batch.slots).toEqual([
      { row: 0, start: imagePositions[0] },
      { row: 0, start: imagePositions[m] },
    ]);
    expect(imagePositions[m]! - imagePositions[0]!).toBeGreaterThan(m); // text between the images

    const logits = (images: ModelImage[]) => tf.tidy(() => Array.from(model.forward({ ...batch, images }).dataSync()));
    const base = logits(batch.images);
    const vocab = tokenizer.vocabSize;
    const changed = (other: number[]) => Array.from({ length: batch.inputIds[0]!.length }, (_, t) => other.slice(t * vocab, (t + 1) * vocab).some((v, j) => Math.abs(v - base[t * vocab + j]!) > 1e-6));
    const noise = new Float32Array(bare(batch.images[1]!).length).map((_, i) => (i * 0.37) % 1);
    const secondChanged = changed(logits([batch.images[0]!, noise]));
    const firstChanged = changed(logits([noise, batch.images[1]!]));
    const second = imagePositions[m]!;
    expect(secondChanged.slice(0, second).some(Boolean)).toBe(false); // causal: nothing before the second image moves
    expect(secondChanged.slice(second).every(Boolean)).toBe(true);
    expect(firstChanged.slice(0, imagePositions[0]).some(Boolean)).toBe(false);
    expect(firstChanged.slice(imagePositions[0]).every(Boolean)).toBe(true);
  });

  it('under onBadSample "fail" the missing image stops the stage naming file and line, before any step', async () => {
    const { data, model } = await setup();
    const stage = stageSchema.parse({ type: 'instruct', steps: 2, batchSize: 2, data: [source({ onBadSample: 'fail' })] });
    let steps = 0;
    const error = await runStage(stage, 0, model, data, { onStep: () => void steps++ }).catch((e: unknown) => e);
    expect(steps).toBe(0);
    expect(error).toBeInstanceOf(BadSampleError);
    expect((error as Error).message).toMatch(/train\.jsonl:15: .*missing\.png/);
  });

  it('a record longer than maxTokens is a bad sample', async () => {
    const sources = new LlavaSources();
    const { data, model } = await setup(sources);
    await data.prepareStage(stageSchema.parse({ type: 'instruct', steps: 0, data: [source({ maxTokens: 20 })] }), 0, model);
    const samples = data.mixture(0)!.sources[0]!.train!;
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) expect(s.ids.length + s.images.length * (model.tokensPerImage - 1)).toBeLessThanOrEqual(20);
    expect(sources.skipped()[join(dir, 'train.jsonl')]!.reasons.some((r) => /over the source's maxTokens 20/.test(r))).toBe(true);
  });

  it("with a tiles encoder, each image is padded into the canvas of its aspect ratio's grid and trains in one batch", async () => {
    // 80x20 and 20x80 images: 8 px tiles, 16 px square input; LLaVA-NeXT's choice is the 1x2 and 2x1 grids
    const red = { r: 220, g: 30, b: 30 };
    await sharp({ create: { width: 80, height: 20, channels: 3, background: red } }).png().toFile(join(dir, 'img', 'wide.png'));
    await sharp({ create: { width: 20, height: 80, channels: 3, background: red } }).png().toFile(join(dir, 'img', 'tall.png'));
    const turns = [
      { from: 'human', value: '<image>\nWhat color is the background?' },
      { from: 'gpt', value: 'The background is red.' },
    ];
    const file = join(dir, 'tiles.jsonl');
    await writeFile(file, ['wide.png', 'tall.png', 'red-green.png'].map((image, i) => JSON.stringify({ id: `t${i}`, image, conversations: turns })).join('\n') + '\n');
    const tokenizer = WordTokenizer.train([...world.corpus(), ...turns.map((t) => t.value)]);
    const model = buildModel(
      { encoder: { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 1, heads: 2, highRes: { strategy: 'tiles', inputSize: 16 } }, connector: { type: 'mlp' }, llm: { type: 'causal', dim: 16, layers: 1, heads: 2 } },
      { registry: createComponentRegistry(), vocabSize: tokenizer.vocabSize, special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: 2 },
    );
    const data = new StageData(world, tokenizer, 1, new LlavaSources());
    await data.prepareStage(stageSchema.parse({ type: 'instruct', steps: 0, data: [source({ file })] }), 0, model);
    const samples = data.mixture(0)!.sources[0]!.train!;
    const shapes = samples.map((s) => s.images.map((image) => (image instanceof Float32Array ? 'bare' : `${image.width}x${image.height}`)));
    expect(shapes).toEqual([['16x8'], ['8x16'], ['16x16']]); // red-green.png is 40x28: the 2x2 grid keeps the most of it
    // aspect ratio kept: the wide image fills the canvas's width and is padded above and below with mid grey
    const wide = samples[0]!.images[0] as { pixels: Float32Array; width: number; height: number };
    const at = (x: number, y: number) => Array.from(wide.pixels.slice((y * wide.width + x) * 3, (y * wide.width + x) * 3 + 3));
    expect(at(8, 4)[0]).toBeCloseTo(220 / 255, 1);
    for (const c of at(8, 0)) expect(c).toBeCloseTo(0.5, 1);
    const batch = model.collate(samples);
    const counts = samples.map((s) => model.tokensFor(s.images[0]!));
    expect(new Set(counts).size).toBe(3);
    expect(batch.inputIds.map((row) => row.filter((id) => id === tokenizer.special.image).length)).toEqual(counts);
    const loss = model.loss(batch);
    expect(Number.isFinite(loss.dataSync()[0]!)).toBe(true);
  });
});
