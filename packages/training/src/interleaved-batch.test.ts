import { describe, it, expect } from 'vitest';
import { INTERLEAVED_LABELS, interleavedCorpus } from '@mllm/data/internal';
import { WordTokenizer } from '@mllm/tokenizer';
import { buildModel, createComponentRegistry } from '@mllm/model';
import { drawsInterleaved, interleavedSample } from './interleaved-batch';
import { runStage } from './run-stage';
import { stageSchema } from './run-config';
import { StageData } from './stage-data';
import { world } from './tiny-run.test-helper';

const tokenizer = WordTokenizer.train([...world.corpus(), ...interleavedCorpus()]);
const makeModel = () =>
  buildModel(
    { encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 1, heads: 2 }, connector: { type: 'mlp' }, llm: { type: 'causal', dim: 16, layers: 1, heads: 2 } },
    { registry: createComponentRegistry(), vocabSize: tokenizer.vocabSize, special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: 2 },
  );

describe('interleaved instruction batches', () => {
  it('a sample holds one image per pair, in order, and trains on every answer (one word and end-of-turn) only', () => {
    const data = new StageData(world, tokenizer, 5);
    const sample = interleavedSample(data, data.rngFor(0, 0), 'train');
    expect(sample.ids).not.toContain(tokenizer.special.unk);
    const imageAt = sample.ids.flatMap((id, i) => (id === tokenizer.special.image ? [i] : []));
    expect(imageAt).toHaveLength(5);
    expect(sample.images).toHaveLength(5);
    // trained tokens: per pair the answer word and <|end|>, then the final <eos>
    const trained = sample.ids.filter((_, i) => sample.lossMask[i] === 1);
    expect(trained).toHaveLength(5 * 2 + 1);
    const answers = trained.filter((_, i) => i % 2 === 0 && i < 10).map((id) => tokenizer.decode([id]));
    for (const a of answers) expect(INTERLEAVED_LABELS).toContain(a);
    // each answer comes after its pair's image, and no image is trained
    for (const [k, at] of imageAt.entries()) expect(sample.lossMask[at]).toBe(0), expect(at).toBeGreaterThan(imageAt[k - 1] ?? -1);
  });

  it('images follow the pairs: the i-th image is the scene of the i-th question', () => {
    const data = new StageData(world, tokenizer, 5);
    const sample = interleavedSample(data, data.rngFor(0, 3), 'val');
    for (const image of sample.images) expect(world.scenes('val').some((s) => world.image(s.id) === image)).toBe(true);
  });

  it('a zero share never draws and leaves the step stream alone', () => {
    const data = new StageData(world, tokenizer, 5);
    const rng = data.rngFor(0, 1);
    const before = data.rngFor(0, 1).next();
    expect(drawsInterleaved(0, rng)).toBe(false);
    expect(drawsInterleaved(1, rng)).toBe(true);
    expect(rng.next()).toBe(before);
  });

  it('an instruct stage with an interleaved share trains on interleaved batches (more tokens than without)', async () => {
    const run = (interleaved: number) =>
      runStage(stageSchema.parse({ type: 'instruct', steps: 4, batchSize: 3, evalEvery: 0, interleaved }), 0, makeModel(), new StageData(world, tokenizer, 4));
    const [plain, interleaved] = [await run(0), await run(1)];
    expect(Number.isFinite(interleaved.finalLoss)).toBe(true);
    expect(Number.isFinite(interleaved.valLoss)).toBe(true);
    expect(interleaved.tokens).toBeGreaterThan(plain.tokens);
  });
});
