import { describe, it, expect } from 'vitest';
import { ShapesWorld } from '@mllm/data';
import { buildModel, createComponentRegistry } from '@mllm/model';
import { runStage } from './run-stage';
import { stageSchema } from './run-config';
import { StageData } from './stage-data';
import { tokenizer } from './tiny-run.test-helper';

// 32 px canvas, 16 px tiles: each tile is one cell of the Shapes world.
const world = new ShapesWorld({ seed: 1, imageSize: 32, objectScale: 0.5, positionGrid: 'image', sizes: { train: 80, val: 10, test: 10 } });
const make = (strategy: 'resize' | 'tiles', merge = 1) =>
  buildModel(
    {
      encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 2, heads: 2, highRes: { strategy, inputSize: 32, ...(strategy === 'tiles' && { merge }) } },
      connector: { type: 'mlp' },
      llm: { type: 'causal', dim: 32, layers: 1, heads: 2 },
    },
    { registry: createComponentRegistry(), vocabSize: tokenizer.vocabSize, special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: 2 },
  );
const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;

describe('high-resolution encoders in the stages', () => {
  it.each([
    ['resize', 1],
    ['tiles', 1],
    ['tiles', 2],
  ] as const)('%s (merge %i): the regions objective reads the spatial grid and its loss falls', async (strategy, merge) => {
    const m = make(strategy, merge);
    const losses: number[] = [];
    const stage = stageSchema.parse({ type: 'pretrain-encoder', objectives: ['regions'], steps: 40, batchSize: 16, lr: 0.003, warmup: 2, evalEvery: 0 });
    await runStage(stage, 0, m, new StageData(world, tokenizer, 7), { onStep: (e) => void losses.push(e.loss) });
    expect(mean(losses.slice(-5))).toBeLessThan(0.9 * mean(losses.slice(0, 5)));
  });

  it('tiles: stages that train the connector train image_newline too, the frozen vision tower stays', async () => {
    const m = make('tiles');
    const values = () => Object.fromEntries(m.encoder.namedParameters().map(([n, p]) => [n, Array.from(p.dataSync())]));
    const before = values();
    const stage = stageSchema.parse({ type: 'align', steps: 3, batchSize: 4, lr: 0.01, warmup: 0, evalEvery: 0 });
    const result = await runStage(stage, 0, m, new StageData(world, tokenizer, 3));
    const after = values();
    const changed = Object.keys(after).filter((n) => after[n]!.some((v, i) => v !== before[n]![i]));
    expect(changed).toEqual(['image_newline']);
    expect(result.trainableParameters).toBe(m.connector.numParameters() + m.encoder.trainedWithConnector!.reduce((n, p) => n + p.size, 0));
  });

  it('tiles: instruction tuning with 24 visual tokens per image trains and lowers the loss', async () => {
    const m = make('tiles');
    expect(m.tokensPerImage).toBe(24);
    const stage = stageSchema.parse({ type: 'instruct', steps: 25, batchSize: 8, lr: 0.01, warmup: 2, evalEvery: 0 });
    const losses: number[] = [];
    await runStage(stage, 0, m, new StageData(world, tokenizer, 3), { onStep: (e) => void losses.push(e.loss) });
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)));
  });
});
