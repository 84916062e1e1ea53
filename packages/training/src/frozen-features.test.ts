import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { runStage } from './run-stage';
import { stageSchema } from './run-config';
import { StageData } from './stage-data';
import { FrozenFeatures } from './frozen-features';
import { make, tokenizer, world } from './tiny-run.test-helper';

/** Nodes the gradient tape holds while `f` runs under variableGrads (tfjs keeps it on its engine state). */
function tapeNodes(f: () => tf.Scalar, vars: tf.Variable[]): number {
  let nodes = 0;
  const { value, grads } = tf.variableGrads(() => {
    const loss = f();
    nodes = (tf.engine().state as unknown as { activeTape: unknown[] }).activeTape.length;
    return loss;
  }, vars);
  value.dispose();
  Object.values(grads).forEach((g) => g.dispose());
  return nodes;
}

/** Counts calls of the encoder's forward and whether any ran while a gradient tape was recording. */
function watchEncoder(model: ReturnType<typeof make>): { calls: number; taped: number } {
  const seen = { calls: 0, taped: 0 };
  const encode = model.encoder.encode.bind(model.encoder);
  model.encoder.encode = (pixels) => {
    seen.calls++;
    if ((tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0) seen.taped++;
    return encode(pixels);
  };
  return seen;
}

describe('FrozenFeatures', () => {
  const stage = (extra: Record<string, unknown> = {}) => stageSchema.parse({ type: 'align', steps: 6, batchSize: 4, lr: 0.01, warmup: 1, evalEvery: 0, ...extra });

  it('gives the loss and gradients of encoding every batch, and records no tape for the encoder', () => {
    const model = make().freeze();
    model.connector.unfreeze();
    const data = new StageData(world, tokenizer, 3);
    const scenes = data.pickScenes(data.rngFor(0, 0, 'train'), 'train', 4);
    const batch = model.collate(scenes.map((s) => data.tokenize(data.conversation('align', s, data.rngFor(0, 0, 'train')))));
    const vars = model.connector.parameters();
    const plain = tf.variableGrads(() => model.loss(batch), vars);
    const plainTape = tapeNodes(() => model.loss(batch), vars);

    const cache = new FrozenFeatures(model);
    model.featureSource = cache;
    cache.prepare(batch.images);
    const seen = watchEncoder(model);
    const cached = tf.variableGrads(() => model.loss(batch), vars);
    const cachedTape = tapeNodes(() => model.loss(batch), vars);

    expect(cached.value.dataSync()[0]).toBe(plain.value.dataSync()[0]);
    for (const v of vars) expect(Array.from(cached.grads[v.name]!.dataSync())).toEqual(Array.from(plain.grads[v.name]!.dataSync()));
    expect(seen.calls).toBe(0); // every image came from the cache
    // the encoder's forward (patch embedding, 2 transformer layers) is off the tape
    expect(cachedTape).toBeLessThan(plainTape - 20);
    expect(cache.size.images).toBe(4);
    model.featureSource = undefined;
    cache.dispose();
  });

  it('in an align stage, encodes each image once outside the gradient scope and matches the uncached stage', async () => {
    const data = new StageData(world, tokenizer, 5);
    const plainLosses: number[] = [];
    const plain = await runStage(stage({ featureCacheBytes: 0 }), 0, make(), data, { onStep: (e) => void plainLosses.push(e.loss) });
    const model = make();
    const seen = watchEncoder(model);
    const losses: number[] = [];
    const cached = await runStage(stage(), 0, model, data, { onStep: (e) => void losses.push(e.loss) });
    expect(losses).toEqual(plainLosses);
    expect(cached.valLoss).toBe(plain.valLoss);
    expect(seen.taped).toBe(0);
    const cache = cached.throughput!.featureCache!;
    // 6 steps of 4 images from 80 training scenes: some repeat; each distinct image is encoded once
    expect(cache.hits + cache.misses).toBe(6 * 4 + 2 * 4); // training batches and the two held-out batches
    expect(cache.misses).toBeLessThan(cache.hits + cache.misses);
    expect(plain.throughput!.featureCache).toBeUndefined();
    expect(model.featureSource).toBeUndefined(); // the stage takes its cache away
  });

  it('keeps at most maxBytes beyond the current batch, evicting the least recently used', () => {
    const model = make();
    const bytesPerImage = model.encoder.numTokens * model.encoder.outputDim * 4;
    const cache = new FrozenFeatures(model, 3 * bytesPerImage);
    const images = [0, 1, 2, 3, 4].map((i) => world.image(world.scenes('train')[i]!.id));
    const before = tf.memory().numTensors;
    cache.prepare(images.slice(0, 2));
    cache.prepare(images.slice(2, 4)); // 4 cached: over by one, the oldest (0) goes
    expect(cache.size.images).toBe(3);
    cache.prepare([images[1]!]); // a hit, now the most recent
    cache.prepare([images[4]!]); // evicts 2, the least recently used
    expect(cache.size).toEqual({ images: 3, bytes: 3 * bytesPerImage });
    const direct = model.encodeFeatures([images[1]!]);
    expect(Array.from(cache.features([images[1]!]).dataSync())).toEqual(Array.from(direct.dataSync()));
    cache.dispose();
    direct.dispose();
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 1); // only the features() result above
  });
});
