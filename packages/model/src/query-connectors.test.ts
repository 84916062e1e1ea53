import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@mllm/core';
import { buildModel, createComponentRegistry, validateModelConfig } from './index';

const IMAGE = 4;
const base = {
  encoder: { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 1, heads: 2 },
  llm: { type: 'causal', dim: 16, layers: 1, heads: 2 },
};
const options = () => ({ registry: createComponentRegistry(), vocabSize: 12, special: { imageTokenId: IMAGE, padId: 0 }, seed: 1 });
const thrown = (f: () => unknown): ConfigError => {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
};

describe('query connectors in a model config', () => {
  it('createComponentRegistry knows qformer and perceiver', () => {
    expect(createComponentRegistry().connectors.types()).toEqual(expect.arrayContaining(['qformer', 'perceiver']));
  });

  it('numQueries: 0 / numLatents: 0 fail validation and the build with the JSON path named', () => {
    for (const [type, field] of [['qformer', 'numQueries'], ['perceiver', 'numLatents']] as const) {
      const config = { ...base, connector: { type, [field]: 0 } };
      const { issues, value } = validateModelConfig(config, createComponentRegistry());
      expect(value).toBeUndefined();
      expect(issues).toEqual([{ path: `connector.${field}`, message: `${field} must be >= 1: it is how many visual tokens each image becomes` }]);
      const error = thrown(() => buildModel(config, options()));
      expect(error.issues.map((i) => i.path)).toEqual([`connector.${field}`]);
      expect(error.message).toContain(`connector.${field}: ${field} must be >= 1`);
    }
  });

  it('heads that do not divide the encoder width (the default dim) fail the build under connector.heads', () => {
    const error = thrown(() => buildModel({ ...base, connector: { type: 'qformer', heads: 3 } }, options()));
    expect(error.issues).toEqual([
      { path: 'connector.heads', message: 'heads 3 must divide dim, which defaults to the encoder width, 8; pick heads from 1, 2, 4, 8, or set connector.dim' },
    ]);
  });

  it('splices numQueries tokens per image whatever the patch count, and the loss reaches the Q-Former', () => {
    const model = buildModel({ ...base, connector: { type: 'qformer', numQueries: 3, layers: 1, heads: 2 } }, options());
    expect(model.encoder.numTokens).toBe(4);
    expect(model.tokensPerImage).toBe(3);
    const batch = model.collate([{ ids: [1, IMAGE, 7, 8, 2], lossMask: [0, 0, 0, 1, 1], images: [new Float32Array(8 * 8 * 3).fill(0.4)] }]);
    expect(batch.inputIds[0]!.filter((id) => id === IMAGE).length).toBe(3);
    const vars = model.trainableParameters().filter(([n]) => n.startsWith('multi_modal_projector.qformer.encoder.layer.0.crossattention'));
    expect(vars.length).toBeGreaterThan(0);
    const { grads } = tf.variableGrads(() => model.loss(batch), vars.map(([, p]) => p));
    for (const [, p] of vars) expect(tf.abs(grads[p.name]!).sum().dataSync()[0]).toBeGreaterThan(0);
  });

  it('configs/qformer.json and configs/perceiver.json build, with as many tokens per image as they ask for', () => {
    for (const file of ['qformer', 'perceiver']) {
      // the file extends configs/default.json; its connector, of another type, replaces the default's whole
      const read = (name: string) => JSON.parse(readFileSync(new URL(`../../../configs/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
      const config = { ...read('default'), ...read(file) } as { connector: { numQueries?: number; numLatents?: number } };
      expect(validateModelConfig(config, createComponentRegistry()).issues).toEqual([]);
      const model = buildModel(config, options());
      expect(model.tokensPerImage).toBe(config.connector.numQueries ?? config.connector.numLatents);
      model.dispose();
    }
  });
});
