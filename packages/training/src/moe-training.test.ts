import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { maskedCrossEntropy } from '@mllm/core';
import { buildModel, createComponentRegistry } from '@mllm/model';
import { runStage } from './run-stage';
import { stageSchema } from './run-config';
import { StageData } from './stage-data';
import { MoeStageTracker } from './moe-stage-stats';
import type { AlignmentContext } from './stage-objective';
import { tokenizer, world } from './tiny-run.test-helper';

const makeMoe = (auxLossCoef = 0.5) =>
  buildModel(
    {
      encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 2, heads: 2 },
      connector: { type: 'mlp' },
      llm: { type: 'causal', dim: 32, layers: 2, heads: 2, ffn: { type: 'moe', experts: 4, topK: 2, auxLossCoef, capacityFactor: 1 } },
    },
    { registry: createComponentRegistry(), vocabSize: tokenizer.vocabSize, special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: 2 },
  );

describe('training an MoE LLM', () => {
  it('the batch loss is the LM loss plus the weighted aux loss, with routing stats', () => {
    const model = makeMoe();
    const data = new StageData(world, tokenizer, 3);
    const batch = model.collate(data.pickScenes(data.rngFor(0, 0, 'train'), 'train', 4).map((s) => data.tokenize(data.conversation('instruct', s, data.rngFor(0, 0, 'train'), 'qa'))));
    const stats: Record<string, number> = {};
    const total = model.loss(batch, stats).dataSync()[0]!;
    const { logits, aux } = model.forwardWithHidden(batch);
    const [b, t, v] = logits.shape;
    const ce = maskedCrossEntropy(logits.reshape([b * t, v]), tf.tensor1d(batch.targets.flat(), 'int32'), tf.tensor1d(batch.weights.flat())).dataSync()[0]!;
    expect(total).toBeCloseTo(ce + 0.5 * aux!.balance.dataSync()[0]!, 5);
    const utilisation = [0, 1, 2, 3].map((k) => stats[`moe/expert_${k}`]!);
    expect(utilisation.reduce((a, c) => a + c, 0)).toBeCloseTo(1, 6);
    expect(stats['moe/balance_loss']).toBeCloseTo(aux!.balance.dataSync()[0]!, 6);
    expect(stats['moe/dropped']).toBeGreaterThanOrEqual(0);
  });

  it('an instruct stage logs moe/expert_k per step and reports the final utilisation; the balance loss keeps experts in use', async () => {
    const model = makeMoe();
    const events: { stats?: Record<string, number> }[] = [];
    const result = await runStage(stageSchema.parse({ type: 'instruct', steps: 12, batchSize: 4, lr: 0.01, warmup: 2, evalEvery: 0 }), 0, model, new StageData(world, tokenizer, 3), {
      onStep: (e) => void events.push(e),
    });
    for (const e of events) expect(Object.keys(e.stats ?? {})).toEqual(expect.arrayContaining(['moe/expert_0', 'moe/expert_3', 'moe/dropped', 'moe/balance_loss']));
    expect(result.moe!.expertUtilisation).toHaveLength(4);
    expect(result.moe!.expertUtilisation.reduce((a, c) => a + c, 0)).toBeCloseTo(1, 5);
    expect(result.moe!.overSteps).toBe(12);
    expect(result.moe!.dropped).toBe(events.reduce((a, e) => a + e.stats!['moe/dropped']!, 0));
    for (const u of result.moe!.expertUtilisation) expect(u).toBeGreaterThan(0.05);
  });

  it('dpo, reward and ppo add the aux loss of the LLM they train and log its routing', async () => {
    const policy = makeMoe();
    const ctx = { newModel: () => makeMoe() } as AlignmentContext;
    const data = new StageData(world, tokenizer, 5);
    const small = { batchSize: 2, lr: 0.003, warmup: 0, evalEvery: 0, tasks: { caption: 1, detail: 0, question: 0 } };
    for (const [i, stage] of [
      { type: 'dpo', steps: 2, ...small },
      { type: 'reward', steps: 2, ...small },
      { type: 'ppo', steps: 2, epochs: 1, batchSize: 2, lr: 0.003, warmup: 0, evalEvery: 0, maxNewTokens: 4 },
    ].entries()) {
      const events: { stats?: Record<string, number> }[] = [];
      const result = await runStage(stageSchema.parse(stage), i, policy, data, { onStep: (e) => void events.push(e) }, undefined, ctx);
      for (const e of events) expect(e.stats!['moe/balance_loss'], stage.type).toBeGreaterThan(0);
      expect(result.moe!.expertUtilisation, stage.type).toHaveLength(4);
    }
  });

  it('the tracker averages the last steps and ignores a dense model', () => {
    const tracker = new MoeStageTracker(2);
    tracker.add(undefined);
    tracker.add({ loss: 1 });
    expect(tracker.result()).toBeUndefined();
    tracker.add({ 'moe/expert_0': 1, 'moe/expert_1': 0, 'moe/dropped': 3 });
    tracker.add({ 'moe/expert_0': 0.5, 'moe/expert_1': 0.5, 'moe/dropped': 1 });
    tracker.add({ 'moe/expert_0': 0.25, 'moe/expert_1': 0.75, 'moe/dropped': 0 });
    expect(tracker.result()).toEqual({ expertUtilisation: [0.375, 0.625], overSteps: 2, dropped: 4 });
  });
});
