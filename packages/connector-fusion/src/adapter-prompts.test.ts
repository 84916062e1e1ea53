import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Attention, ConfigError, Rng, zodIssues } from '@mllm/core';
import { gradientMismatches } from '@mllm/core/testing';
import { AdapterPrompts, adaptedLayers, adapterPromptsSchema } from './adapter-prompts';

const issues = (config: unknown) => {
  const r = adapterPromptsSchema.safeParse(config);
  return r.success ? [] : zodIssues(r.error, 'connector');
};
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0]!);
const make = (config: Record<string, unknown> = {}, layers = 3) =>
  new AdapterPrompts(adapterPromptsSchema.parse({ type: 'adapter-prompts', prompts: 3, ...config }), 6, 8, { layers, heads: 2 }, new Rng(3));
const openGates = (c: AdapterPrompts, value = 0.7) => {
  for (const m of c.layers.values()) m.gate.assign(tf.tensor1d([value, -value]));
};
const configError = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
};

describe('adapter-prompts schema', () => {
  it('defaults to 10 prompts, leaves layers to the LLM depth, and rejects unknown fields', () => {
    expect(adapterPromptsSchema.parse({ type: 'adapter-prompts' })).toEqual({ type: 'adapter-prompts', prompts: 10 });
    expect(issues({ type: 'adapter-prompts', adapter_len: 10 })).toEqual([{ path: 'connector', message: 'unknown field(s) "adapter_len"' }]);
    expect(issues({ type: 'adapter-prompts', prompts: 0 })).toEqual([
      { path: 'connector.prompts', message: 'prompts must be >= 1: each adapted layer attends to this many learnable prompts' },
    ]);
    expect(issues({ type: 'adapter-prompts', layers: 1.5 })).toEqual([{ path: 'connector.layers', message: 'layers must be a whole number' }]);
  });

  it('names connector.layers when it is more than the LLM has', () => {
    expect(configError(() => make({ layers: 4 }, 3))).toEqual([
      { path: 'connector.layers', message: "layers 4 is more than the LLM's 3 decoder layers; use 1..3" },
    ]);
    expect(make({ layers: 3 }, 3).layers.size).toBe(3);
  });
});

describe('AdapterPrompts', () => {
  it('adapts the top layers (default min(2, LLM layers)) with zero gates, under peft-like names', () => {
    expect(adaptedLayers(2, 5)).toEqual([3, 4]);
    expect([...make({}, 3).layers.keys()]).toEqual([1, 2]);
    expect([...make({}, 1).layers.keys()]).toEqual([0]);
    const c = make({ layers: 1 }, 3);
    const shapes = Object.fromEntries(Object.entries(c.stateDict()).map(([n, t]) => [n, t.shape]));
    expect(shapes).toEqual({
      'visual_proj.weight': [8, 6],
      'visual_proj.bias': [8],
      'adapter_layers.2.adaption_prompt': [3, 8],
      'adapter_layers.2.adaption_gate': [2],
    });
    expect([...c.layers.get(2)!.gate.dataSync()]).toEqual([0, 0]);
  });

  it('hands a prefix only to adapted layers; each row gets its own image, the mean of several, or none', () => {
    const c = make({}, 3);
    const features = tf.stack([tf.fill([4, 6], 0.1), tf.fill([4, 6], 0.5), tf.fill([4, 6], -0.3)]) as tf.Tensor3D;
    // row 0: images 0 and 2; row 1: image 1; row 2: none
    const fusion = c.bind(features, [{ row: 0, start: 1 }, { row: 1, start: 0 }, { row: 0, start: 3 }], 3);
    expect(fusion.kvPrefix!(0)).toBeUndefined();
    const { states, gate } = fusion.kvPrefix!(2)!;
    expect(states.shape).toEqual([3, 3, 8]);
    expect([...gate.dataSync()]).toEqual([0, 0]);
    const prompt = c.layers.get(2)!.prompt;
    const visual = (x: number) => c.visualProj.forward(tf.fill([1, 6], x)); // [1, D]
    const row = (b: number) => states.slice([b, 0, 0], [1, -1, -1]).reshape([3, 8]);
    expect(maxDiff(row(0), prompt.add(visual(0.1).add(visual(-0.3)).div(2)))).toBeLessThan(1e-6);
    expect(maxDiff(row(1), prompt.add(visual(0.5)))).toBeLessThan(1e-6);
    expect(maxDiff(row(2), prompt)).toBe(0);
    fusion.dispose();
  });

  it('with zero gates the prefix leaves attention exactly as it was; open, it moves it', () => {
    const c = make();
    const attn = new Attention({ dim: 8, numHeads: 2 }, new Rng(9));
    const x = tf.randomNormal([1, 4, 8], 0, 1, 'float32', 1) as tf.Tensor3D;
    const fusion = c.bind(tf.randomNormal([1, 4, 6], 0, 1, 'float32', 2) as tf.Tensor3D, [{ row: 0, start: 1 }], 1);
    const bare = attn.forward(x).out;
    expect(maxDiff(attn.forward(x, { prefix: fusion.kvPrefix!(2) }).out, bare)).toBe(0);
    openGates(c);
    expect(maxDiff(attn.forward(x, { prefix: fusion.kvPrefix!(2) }).out, bare)).toBeGreaterThan(1e-3);
    fusion.dispose();
  });

  it('bind and the hooks leak nothing inside a tidy', () => {
    const c = make();
    const features = tf.randomNormal([1, 4, 6], 0, 1, 'float32', 2) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    const fusion = c.bind(features, [{ row: 0, start: 0 }], 1);
    tf.tidy(() => {
      fusion.kvPrefix!(1);
      fusion.kvPrefix!(2);
    });
    fusion.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('AdapterPrompts gradients', () => {
  it('pass a finite-difference check on prompts, gates, visual projection, features and hidden states', () => {
    const c = make({ layers: 1 }, 1);
    openGates(c, 0.6);
    const attn = new Attention({ dim: 8, numHeads: 2 }, new Rng(5));
    attn.freeze();
    const slots = [{ row: 1, start: 0 }, { row: 0, start: 2 }];
    const weights = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 13);
    const f = (hidden: tf.Tensor, features: tf.Tensor) =>
      tf.tidy(() => {
        const fusion = c.bind(features as tf.Tensor3D, slots, 2);
        return attn.forward(hidden as tf.Tensor3D, { prefix: fusion.kvPrefix!(0) }).out.mul(weights).sum() as tf.Scalar;
      });
    const hidden = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 11);
    const features = tf.randomNormal([2, 4, 6], 0, 1, 'float32', 12);
    expect(gradientMismatches(f, c.trainableParameters(), [['hidden', hidden], ['features', features]], { samples: 6 })).toEqual([]);
  });
});
