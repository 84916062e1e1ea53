import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Registry, Rng, type ConnectorContext, type TokenConnector } from '@mllm/core';
import { gradientMismatches } from '@mllm/core/testing';
import { QFormer, qformerSchema } from './qformer';
import { PerceiverResampler, perceiverSchema } from './perceiver-resampler';
import { registerQueryConnectors } from './register';

// The properties every query connector must have, checked for both.
const D_ENC = 12;
const D_LLM = 10;
const variants: { name: string; make: (seed: number, options?: { dim?: number }) => TokenConnector; tokens: number }[] = [
  {
    name: 'qformer',
    tokens: 5,
    make: (seed, o = {}) => new QFormer(qformerSchema.parse({ type: 'qformer', numQueries: 5, heads: 2, ...o }), D_ENC, D_LLM, new Rng(seed)),
  },
  {
    name: 'perceiver',
    tokens: 6,
    make: (seed, o = {}) => new PerceiverResampler(perceiverSchema.parse({ type: 'perceiver', numLatents: 6, heads: 2, ...o }), D_ENC, D_LLM, new Rng(seed)),
  },
];

const features = (b: number, n: number, seed: number) => tf.randomNormal([b, n, D_ENC], 0, 1, 'float32', seed) as tf.Tensor3D;

describe.each(variants)('$name connector', ({ name, make, tokens }) => {
  it('maps [B, N, D_enc] to [B, M, D_llm] with M fixed whatever N is', () => {
    for (const dim of [undefined, 8]) {
      const c = make(1, { dim });
      for (const n of [4, 16, 49]) {
        expect(c.forward(features(2, n, n)).shape).toEqual([2, tokens, D_LLM]);
        expect(c.outputTokens(n)).toBe(tokens);
      }
    }
  });

  it('reads the image: each output row depends on its own image and on no other', () => {
    const c = make(2);
    const x = features(2, 4, 3);
    const changed = tf.concat([x.slice([0, 0, 0], [1, -1, -1]), features(1, 4, 4)], 0) as tf.Tensor3D;
    const [a, b] = [c.forward(x), c.forward(changed)];
    const diff = (row: number) => tf.max(tf.abs(a.slice([row, 0, 0], [1, -1, -1]).sub(b.slice([row, 0, 0], [1, -1, -1])))).dataSync()[0]!;
    expect(diff(0)).toBe(0);
    expect(diff(1)).toBeGreaterThan(1e-3);
  });

  it('is built by registerQueryConnectors from a config', () => {
    const registry = { connectors: new Registry<ConnectorContext, TokenConnector>('connector') };
    registerQueryConnectors(registry);
    const count = name === 'qformer' ? 'numQueries' : 'numLatents';
    const built = registry.connectors.build({ type: name, [count]: 3, heads: 3 }, { rng: new Rng(1), inputDim: D_ENC, outputDim: D_LLM, inputTokens: 16 });
    expect(built.kind).toBe('token-connector');
    expect(built.forward(features(1, 16, 5)).shape).toEqual([1, 3, D_LLM]);
  });

  it('passes a finite-difference gradient check w.r.t. every parameter and the features', () => {
    const c = make(3, { dim: 8 });
    // N(0, 0.02) query tokens sit where the first LayerNorm magnifies a 1e-2 step ~50x, too far for
    // central differences; the derivative is checked at unit scale instead
    for (const [n, p] of c.namedParameters()) if (n === 'query_tokens') p.assign(tf.randomNormal(p.shape, 0, 1, 'float32', 9));
    const x = features(2, 3, 6);
    const up = tf.randomNormal([2, tokens, D_LLM], 0, 1, 'float32', 7);
    const f = (xx: tf.Tensor) => c.forward(xx as tf.Tensor3D).mul(up).sum() as tf.Scalar;
    expect(gradientMismatches(f, c.namedParameters(), [['features', x]])).toEqual([]);
  });

  it('leaks no tensor across forward + dispose', () => {
    const c = make(4);
    const x = features(2, 16, 8);
    c.forward(x).dispose(); // first call may create lazily cached tensors
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) c.forward(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains: fits an image-dependent target in a few dozen steps', () => {
    const c = make(11);
    const x = features(6, 9, 12);
    // target token m is the image's mean patch through its own fixed linear map [D_enc, D_llm]
    const maps = tf.unstack(tf.randomNormal([tokens, D_ENC, D_LLM], 0, 1, 'float32', 13));
    const target = tf.stack(maps.map((m) => tf.matMul(x.mean(1), m)), 1); // [B, M, D_llm]
    // the best any image-blind connector can do: predict the batch mean of the target
    const blind = target.sub(target.mean(0, true)).square().mean().dataSync()[0]!;
    const loss = () => tf.tidy(() => c.forward(x).sub(target).square().mean() as tf.Scalar);
    // tfjs's own Adam, not @mllm/training's AdamW: training depends on model, which depends on this package
    const optimizer = tf.train.adam(0.02);
    const first = loss().dataSync()[0]!;
    for (let step = 0; step < 40; step++) optimizer.minimize(loss, false, c.parameters());
    const last = loss().dataSync()[0]!;
    optimizer.dispose();
    expect(last).toBeLessThan(first / 5);
    expect(last).toBeLessThan(blind / 3);
  });
});
