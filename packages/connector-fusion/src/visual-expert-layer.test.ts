import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng, TransformerBlock } from '@mllm/core';
import { gradientMismatches } from '@mllm/core/testing';
import { VisualExpertLayer } from './visual-expert-layer';
import { visualExpertSchema } from './visual-expert';

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0]!);
const block = () => new TransformerBlock({ dim: 8, numHeads: 2, numKvHeads: 1, mlpHidden: 12, style: 'llama' }, new Rng(2));
const expert = () => new VisualExpertLayer({ dim: 8, kvDim: 4, mlpHidden: 12 }, new Rng(4));
// row 0: positions 1-2 are image; row 1: position 0
const imageMask = () => tf.tensor3d([0, 1, 1, 0, 1, 0, 0, 0], [2, 4, 1]);

describe('visual-expert schema', () => {
  it("defaults the projection to CogVLM's 2-layer MLP and rejects unknown fields", () => {
    expect(visualExpertSchema.parse({ type: 'visual-expert' })).toEqual({ type: 'visual-expert', projection: { type: 'mlp', depth: 2 } });
    expect(visualExpertSchema.safeParse({ type: 'visual-expert', experts: 1 }).success).toBe(false);
  });
});

describe('VisualExpertLayer routed through a TransformerBlock', () => {
  it('text positions keep the block output exactly; image positions take the expert weights', () => {
    const b = block();
    const e = expert();
    const x = tf.randomNormal([2, 4, 8], 0, 1, 'float32', 1) as tf.Tensor3D;
    const plain = b.forward(x).out;
    const routed = b.forward(x, { routing: e.routing(imageMask()) }).out;
    // no mask: every position attends everywhere, so only the image positions' own rows (and
    // those reading their keys) change; row 1 position 0 is image, so check a text-only row
    const textOnly = b.forward(x, { routing: e.routing(tf.zeros([2, 4, 1])) }).out;
    expect(maxDiff(textOnly, plain)).toBe(0);
    expect(maxDiff(routed.slice([0, 1, 0], [1, 2, -1]), plain.slice([0, 1, 0], [1, 2, -1]))).toBeGreaterThan(1e-3);
  });

  it('an expert holding the text weights computes what the block alone does', () => {
    const b = block();
    const e = expert();
    e.loadStateDict({
      'self_attn.q_proj.weight': b.attn.q.weight,
      'self_attn.k_proj.weight': b.attn.k.weight,
      'self_attn.v_proj.weight': b.attn.v.weight,
      'mlp.gate_proj.weight': b.stateDict()['mlp.gate_proj.weight']!,
      'mlp.up_proj.weight': b.stateDict()['mlp.up_proj.weight']!,
      'mlp.down_proj.weight': b.stateDict()['mlp.down_proj.weight']!,
    });
    const x = tf.randomNormal([2, 4, 8], 0, 1, 'float32', 3) as tf.Tensor3D;
    expect(maxDiff(b.forward(x, { routing: e.routing(imageMask()) }).out, b.forward(x).out)).toBeLessThan(1e-6);
  });

  it('passes a finite-difference check on every expert parameter and the hidden states', () => {
    const b = block();
    b.freeze();
    const e = expert();
    const mask = imageMask();
    const weights = tf.randomNormal([2, 4, 8], 0, 1, 'float32', 13);
    const f = (x: tf.Tensor) => tf.tidy(() => b.forward(x as tf.Tensor3D, { routing: e.routing(mask) }).out.mul(weights).sum() as tf.Scalar);
    const x = tf.randomNormal([2, 4, 8], 0, 1, 'float32', 11);
    expect(gradientMismatches(f, e.trainableParameters(), [['hidden', x]], { samples: 6 })).toEqual([]);
  });

  it('leaks nothing', () => {
    const b = block();
    const e = expert();
    const x = tf.randomNormal([2, 4, 8], 0, 1, 'float32', 3) as tf.Tensor3D;
    const mask = imageMask();
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      b.forward(x, { routing: e.routing(mask) });
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
