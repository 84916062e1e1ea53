import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { ShapesWorld, caption, parseMentions, webCaptionCorpus } from '@mllm/data';
import { WordTokenizer } from '@mllm/tokenizer';
import { buildModel, createComponentRegistry } from '@mllm/model';
import { runStage } from './run-stage';
import { stageSchema } from './run-config';
import { StageData } from './stage-data';
import { captionDataSchema } from './caption-data-schema';
import { buildCaptionPool } from './caption-pool';
import { recaptionQuality } from './caption-recaption';

const world = new ShapesWorld({ seed: 5, imageSize: 16, sizes: { train: 300, val: 10, test: 10 } });
const tokenizer = WordTokenizer.train([...world.corpus(), ...webCaptionCorpus()]);
const make = () =>
  buildModel(
    {
      encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 2, heads: 2 },
      connector: { type: 'mlp' },
      llm: { type: 'causal', dim: 32, layers: 1, heads: 2 },
    },
    { registry: createComponentRegistry(), vocabSize: tokenizer.vocabSize, special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: 2 },
  );
const context = { newModel: make };
const align = stageSchema.parse({ type: 'align', steps: 3, batchSize: 8, evalEvery: 0 });

/** The align stage's losses on a fresh model, with `captions` as the run's data.captions. */
async function alignLosses(captions?: unknown): Promise<number[]> {
  const data = new StageData(world, tokenizer, 3);
  if (captions !== undefined) data.captionConfig = captionDataSchema.parse(captions);
  const losses: number[] = [];
  await runStage(align, 0, make(), data, { onStep: (e) => void losses.push(e.loss) }, undefined, context);
  return losses;
}

describe('the align stage under data.captions', () => {
  it('the fine source over every train scene is the stage without the option, batch for batch', async () => {
    const plain = await alignLosses();
    expect(await alignLosses({ source: 'fine' })).toEqual(plain);
    expect(await alignLosses({ source: 'web', noise: 0 })).not.toEqual(plain);
  });

  it('trains on the web pool and reports its noise; validation stays the clean captions of val scenes', async () => {
    const data = new StageData(world, tokenizer, 3);
    data.captionConfig = captionDataSchema.parse({ source: 'web', noise: 0.5, scenes: 200 });
    const result = await runStage(align, 0, make(), data, {}, undefined, context);
    const pairs = data.captions!.pairs();
    expect(pairs).toHaveLength(200);
    const noisy = pairs.filter((p) => p.label !== 'clean').length / 200;
    expect(result.captions).toMatchObject({ source: 'web', scenes: 200, trainedOn: 200, noise: { asked: 0.5, noisy } });
    const poolCaptions = new Set(pairs.map((p) => `${p.scene.id} ${p.caption}`));
    for (const s of data.captions!.samples(new Rng(1), 'train', 50)) expect(poolCaptions.has(`${s.image} ${s.conversations[1]!.value}`)).toBe(true);
    for (const s of data.captions!.samples(new Rng(1), 'val', 5)) expect(s.conversations[1]!.value).toBe(caption(world.scene(s.image)));
  });

  it('CLIP filtering with a scorer trained for a few steps removes mostly noise, and reports it against the labels', async () => {
    const model = make();
    const data = new StageData(world, tokenizer, 4);
    // unrelated noise only: what a scorer trained for seconds can already tell
    const config = captionDataSchema.parse({ source: 'web', noise: 0.5, wrongShare: 0, filter: { keep: 0.5, scorer: { scenes: 150, steps: 60, batchSize: 32, lr: 0.005, warmup: 5, hardNegatives: false } } });
    const pool = await buildCaptionPool(config, model, data, context);
    const filter = pool.report.filter!;
    expect(filter.precision).toBeGreaterThan(0.8);
    expect(filter.recall).toBeGreaterThan(0.8);
    // the report's numbers are those of the pairs the stage trains on
    const kept = pool.pairs();
    expect(kept).toHaveLength(pool.report.trainedOn);
    expect(filter.removed).toBe(300 - kept.length);
    const keptNoise = kept.filter((p) => p.label !== 'clean').length;
    const noise = Math.round(pool.report.noise!.noisy * 300);
    expect(filter.precision).toBeCloseTo((noise - keptNoise) / filter.removed, 12);
    expect(filter.recall).toBeCloseTo((noise - keptNoise) / noise, 12);
    expect(filter.scores.byLabel.clean!.mean).toBeGreaterThan(filter.scores.byLabel.unrelated!.mean);
  });

  it('a scorer trained on the noisy pool itself still scores unrelated captions below clean ones', async () => {
    const config = captionDataSchema.parse({ source: 'web', noise: 0.3, wrongShare: 0, filter: { keep: 0.7, scorer: { trainOn: 'pool', steps: 60, batchSize: 32, lr: 0.005, warmup: 5, hardNegatives: false } } });
    const { byLabel } = (await buildCaptionPool(config, make(), new StageData(world, tokenizer, 6), context)).report.filter!.scores;
    expect(byLabel.unrelated!.removedShare).toBeGreaterThan(2 * byLabel.clean!.removedShare);
    expect(byLabel.clean!.mean).toBeGreaterThan(byLabel.unrelated!.mean);
  });

  it('recaptioning trains a captioner on a copy and the stage trains on its captions; the model is untouched', async () => {
    const model = make();
    const before = model.stateDict();
    const snapshot = Object.fromEntries(Object.entries(before).map(([k, t]) => [k, Array.from(t.dataSync())]));
    const data = new StageData(world, tokenizer, 5);
    const config = captionDataSchema.parse({ source: 'web', noise: 0.4, scenes: 20, recaption: { scenes: 30, steps: 3, batchSize: 4, maxNewTokens: 12 } });
    const pool = await buildCaptionPool(config, model, data, context);
    const pairs = pool.pairs();
    expect(pairs).toHaveLength(20);
    expect(pairs.map((p) => p.scene.id)).toEqual(world.scenes('train').slice(0, 20).map((s) => s.id));
    const report = pool.report.recaption!;
    expect(report).toMatchObject({ ...recaptionQuality(pairs.map((p) => p.scene), pairs.map((p) => p.caption)), trainedOn: 30 });
    expect(Number.isFinite(report.captionerLoss)).toBe(true);
    expect(Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, Array.from(t.dataSync())]))).toEqual(snapshot);
  });
});

describe('recaptionQuality', () => {
  it('counts CHAIR and coverage as a hand count does', () => {
    const [a, b] = world.scenes('train').filter((s) => s.objects.length === 2);
    const [a0, a1] = a!.objects.map((o) => `${o.color} ${o.shape}`);
    const absent = ['red', 'green', 'blue', 'yellow'].flatMap((c) => ['circle', 'square'].map((s) => `${c} ${s}`)).find((c) => !b!.objects.some((o) => `${o.color} ${o.shape}` === c))!;
    // a: both objects named, one of them twice, and nothing else; b: its caption with one absent object added
    const captions = [`a ${a0} and a ${a1} and a ${a0} .`, `${caption(b!).slice(0, -2)} and a small ${absent} at the top left .`];
    const q = recaptionQuality([a!, b!], captions);
    const mentions = parseMentions(captions[0]!).length + parseMentions(captions[1]!).length;
    expect(mentions).toBe(6);
    expect(q.chairI).toBeCloseTo(1 / 6, 12);
    expect(q.chairS).toBe(0.5);
    expect(q.recall).toBe(1);
    expect(q.exact).toBe(0);
    expect(recaptionQuality([b!], [caption(b!)])).toEqual({ captions: 1, chairI: 0, chairS: 0, recall: 1, exact: 1 });
  });
});
