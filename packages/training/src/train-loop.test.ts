import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildModel, createComponentRegistry, type TokenizedSample } from '@mllm/model';
import { trainLoop } from './train-loop';

const IMAGE = 4;
const model = () =>
  buildModel(
    {
      encoder: { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 2, heads: 2 },
      connector: { type: 'mlp' },
      llm: { type: 'causal', dim: 16, layers: 1, heads: 2 },
    },
    { registry: createComponentRegistry(), vocabSize: 12, special: { imageTokenId: IMAGE, padId: 0 }, seed: 3 },
  );

/** Image brightness decides the answer token (9 or 10): learnable only through the connector. */
function sample(step: number, k: number): TokenizedSample {
  const bright = (step * 7 + k * 3) % 2 === 1;
  return { ids: [1, IMAGE, 5, bright ? 9 : 10, 2], lossMask: [0, 0, 0, 1, 0], images: [new Float32Array(8 * 8 * 3).fill(bright ? 0.9 : 0.1)] };
}

const optim = { steps: 100, lr: 0.01, warmup: 5, minLrRatio: 0.1, weightDecay: 0, clipNorm: 1 };

describe('trainLoop', () => {
  it('does not leak tensors: the count after step 10 equals the count after step 100', async () => {
    const m = model();
    const counts = new Map<number, number>();
    await trainLoop({
      params: m.trainableParameters(),
      optim,
      lossAt: (step) => {
        const batch = m.collate([0, 1, 2, 3].map((k) => sample(step, k)));
        return { loss: () => m.loss(batch), tokens: 20 };
      },
      afterStep: (finished) => void counts.set(finished, tf.memory().numTensors),
    });
    expect(counts.get(100)).toBe(counts.get(10));
  });

  it('with the LLM frozen, the connector alone learns to read the answer from the image', async () => {
    const m = model();
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const lossAt = (step: number) => {
      const batch = m.collate([0, 1, 2, 3, 4, 5, 6, 7].map((k) => sample(step, k)));
      return { loss: () => m.loss(batch), tokens: 40 };
    };
    // 1) LLM pre-trained on text alone: it learns "9 or 10" but cannot know which (loss about ln 2)
    m.freeze();
    m.llm.unfreeze();
    const llmLosses: number[] = [];
    const textAt = (step: number) => {
      const batch = m.collate([0, 1, 2, 3, 4, 5, 6, 7].map((k) => ({ ...sample(step, k), ids: [1, 5, sample(step, k).ids[3]!, 2], lossMask: [0, 0, 1, 0], images: [] })));
      return { loss: () => m.loss(batch), tokens: 32 };
    };
    await trainLoop({ params: m.trainableParameters(), optim: { ...optim, steps: 120, lr: 0.02 }, lossAt: textAt, onStep: (e) => void llmLosses.push(e.loss) });
    expect(mean(llmLosses.slice(-10))).toBeGreaterThan(0.5);
    // 2) connector alone, LLM frozen: the loss can only fall below ln 2 by using the image
    m.freeze();
    m.connector.unfreeze();
    const frozen = m.llm.stateDict()['model.layers.0.mlp.up_proj.weight']!.dataSync().slice();
    const losses: number[] = [];
    await trainLoop({ params: m.trainableParameters(), optim: { ...optim, steps: 150, lr: 0.03 }, lossAt, onStep: (e) => void losses.push(e.loss) });
    // below the text-only floor: the frozen LLM now answers from the image the connector feeds it
    expect(mean(losses.slice(-10))).toBeLessThan(mean(llmLosses.slice(-10)) - 0.08);
    expect(m.llm.stateDict()['model.layers.0.mlp.up_proj.weight']!.dataSync()).toEqual(frozen);
  });

  it('the same seed gives the same losses', async () => {
    const run = async () => {
      const m = model();
      const losses: number[] = [];
      await trainLoop({
        params: m.trainableParameters(),
        optim: { ...optim, steps: 5 },
        lossAt: (step) => {
          const batch = m.collate([0, 1].map((k) => sample(step, k)));
          return { loss: () => m.loss(batch), tokens: 10 };
        },
        onStep: (e) => void losses.push(e.loss),
      });
      return losses;
    };
    expect(await run()).toEqual(await run());
  });

  it('refuses a stage with nothing to train', async () => {
    await expect(trainLoop({ params: [], optim, lossAt: () => ({ loss: () => tf.scalar(0), tokens: 0 }) })).rejects.toThrow(/nothing to train/);
  });
});
