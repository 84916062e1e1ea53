import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, Rng, maskedCrossEntropy } from '@mllm/core';
import { ExpertBridge, RegionDetector } from '@mllm/connector-expert';
import { buildModel, createComponentRegistry } from '@mllm/model';
import { parseRunConfig, stageSchema } from './run-config';
import { RegionHead } from './region-head';
import { runStage } from './run-stage';
import { StageData } from './stage-data';
import { tokenizer, valuesOf, world } from './tiny-run.test-helper';

const registry = createComponentRegistry();
const modelSlots = {
  encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 2, heads: 2 },
  connector: { type: 'expert' },
  llm: { type: 'causal', dim: 32, layers: 1, heads: 2 },
};
const text = { encode: (s: string) => tokenizer.encode(s), padId: tokenizer.special.pad, unknownWords: (s: string) => tokenizer.unknownWords(s) };
const makeExpert = () => buildModel(modelSlots, { registry, vocabSize: tokenizer.vocabSize, special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: 2, text });

const issuesOf = (stages: unknown[]) => {
  try {
    parseRunConfig({ ...modelSlots, stages }, registry);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues;
  }
};

describe('runs with the expert bridge', () => {
  it('are refused without a regions pre-training before the first image stage, or with a stage that trains only the connector', () => {
    expect(issuesOf([{ type: 'pretrain-encoder', objectives: ['regions'], steps: 1 }, { type: 'align', steps: 1, trains: ['llm'] }, { type: 'instruct', steps: 1 }])).toEqual([]);
    const noRegions = issuesOf([{ type: 'pretrain-encoder', objectives: ['contrastive'], steps: 1 }, { type: 'instruct', steps: 1 }]);
    expect(noRegions).toEqual([{ path: 'connector.type', message: expect.stringMatching(/no "pretrain-encoder" stage with "objectives": \["regions"\] comes before stages\[1\] \(instruct\)/) }]);
    const late = issuesOf([{ type: 'instruct', steps: 1 }, { type: 'pretrain-encoder', objectives: ['regions'], steps: 1 }]);
    expect(late.map((i) => i.path)).toEqual(['connector.type']);
    const connectorOnly = issuesOf([{ type: 'pretrain-encoder', objectives: ['regions'], steps: 1 }, { type: 'align', steps: 1 }]);
    expect(connectorOnly).toEqual([{ path: 'stages[1].trains', message: expect.stringMatching(/training connector alone trains nothing; set stages\[1\].trains to \["llm"\]/) }]);
  });

  it('read images with the detector RegionHead trains: same parameter names, same logits layout', () => {
    const head = new RegionHead(16, 4, new Rng(5));
    const detector = new RegionDetector(16, 4, new Rng(6));
    detector.loadStateDict(head.stateDict()); // strict: the names and shapes must match
    const scenes = world.scenes('train').slice(0, 3);
    const tokens = tf.randomNormal([3, 4, 16], 0, 1, 'float32', 7) as tf.Tensor3D;
    // the head's loss, recomputed from the detector's logits: shape CE over all cells, colour and size over occupied ones
    const reference = tf.tidy(() => {
      const logits = detector.cellLogits(tokens);
      const cells = scenes.flatMap((s) => ['top left', 'top right', 'bottom left', 'bottom right'].map((c) => s.objects.find((o) => o.cell === c)));
      const part = (from: number, size: number) => logits.slice([0, from], [-1, size]) as tf.Tensor2D;
      const ids = (f: (o: NonNullable<(typeof cells)[number]>) => number) => tf.tensor1d(cells.map((o) => (o ? f(o) : 0)), 'int32');
      const occupied = tf.tensor1d(cells.map((o) => (o ? 1 : 0)));
      const SHAPES = ['circle', 'square', 'triangle', 'cross'];
      const COLORS = ['red', 'green', 'blue', 'yellow'];
      return maskedCrossEntropy(part(0, 5), ids((o) => 1 + SHAPES.indexOf(o.shape)), tf.ones([cells.length]))
        .add(maskedCrossEntropy(part(5, 4), ids((o) => COLORS.indexOf(o.color)), occupied))
        .add(maskedCrossEntropy(part(9, 2), ids((o) => (o.size === 'small' ? 0 : 1)), occupied))
        .dataSync()[0]!;
    });
    expect(tf.tidy(() => head.loss(tokens, scenes).dataSync()[0]!)).toBeCloseTo(reference, 5);
    tf.dispose(tokens);
  });

  it('keep the trained regions head as the expert detector, which the later token stages leave alone', async () => {
    const pretrain = (steps: number) => stageSchema.parse({ type: 'pretrain-encoder', objectives: ['regions'], steps, batchSize: 8, evalEvery: 0 });
    const data = new StageData(world, tokenizer, 3);
    // no steps: the detector holds the stage's freshly initialised head, exactly
    const untrained = makeExpert();
    await runStage(pretrain(0), 0, untrained, data);
    const fresh = new RegionHead(16, 4, new Rng(3).fork('stage0:region-head'));
    expect(valuesOf((untrained.connector as ExpertBridge).detector.namedParameters())).toEqual(valuesOf(fresh.namedParameters()));
    // some steps: the head the stage trained
    const model = makeExpert();
    const bridge = model.connector as ExpertBridge;
    await runStage(pretrain(3), 0, model, data);
    const trained = valuesOf(bridge.detector.namedParameters());
    for (const [name, values] of Object.entries(valuesOf(fresh.namedParameters()))) expect(trained[name]).not.toEqual(values);
    const llmBefore = valuesOf(model.llm.namedParameters());
    const result = await runStage(stageSchema.parse({ type: 'instruct', steps: 2, batchSize: 4, evalEvery: 0 }), 1, model, data);
    expect(valuesOf(bridge.detector.namedParameters())).toEqual(trained);
    expect(result.trainableParameters).toBe(model.llm.numParameters());
    const llmAfter = valuesOf(model.llm.namedParameters());
    expect(Object.keys(llmAfter).some((n) => llmAfter[n]!.some((v, i) => v !== llmBefore[n]![i]))).toBe(true);
  });
});
