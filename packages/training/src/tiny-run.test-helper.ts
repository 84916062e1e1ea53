import type * as tf from '@tensorflow/tfjs';
import { ShapesWorld } from '@mllm/data';
import { WordTokenizer } from '@mllm/tokenizer';
import { buildModel, createComponentRegistry } from '@mllm/model';

/** A small world, its tokenizer and a seconds-to-train model, shared by the stage tests. */
export const world = new ShapesWorld({ seed: 1, imageSize: 16, sizes: { train: 80, val: 10, test: 10 } });
export const tokenizer = WordTokenizer.train(world.corpus());
export const make = () =>
  buildModel(
    {
      encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 2, heads: 2 },
      connector: { type: 'mlp' },
      llm: { type: 'causal', dim: 32, layers: 1, heads: 2 },
    },
    { registry: createComponentRegistry(), vocabSize: tokenizer.vocabSize, special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: 2 },
  );

/** Parameter values by name, as plain arrays, to compare before and after a stage. */
export const valuesOf = (entries: [string, tf.Tensor][]) => Object.fromEntries(entries.map(([n, p]) => [n, Array.from(p.dataSync())]));
