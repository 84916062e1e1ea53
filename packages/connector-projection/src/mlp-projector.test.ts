import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@mllm/core';
import { checkParameterGradients } from '@mllm/core/testing';
import { MlpProjector, mlpProjectorSchema } from './mlp-projector';
import { LinearProjector } from './linear-projector';

describe('projection connectors', () => {
  it('MLP maps [B, N, D_enc] to [B, N, D_llm] with HF LLaVA names', () => {
    const mlp = new MlpProjector(mlpProjectorSchema.parse({ type: 'mlp' }), 6, 10, new Rng(1));
    expect(mlp.forward(tf.zeros([2, 5, 6]) as tf.Tensor3D).shape).toEqual([2, 5, 10]);
    expect(Object.keys(mlp.stateDict()).sort()).toEqual(['linear_1.bias', 'linear_1.weight', 'linear_2.bias', 'linear_2.weight']);
    expect(mlp.outputTokens(49)).toBe(49);
  });

  it('MLP equals Linear-GELU-Linear computed independently', () => {
    const mlp = new MlpProjector({ type: 'mlp', depth: 2 }, 3, 4, new Rng(2));
    const x = tf.randomNormal([1, 2, 3], 0, 1, 'float32', 1) as tf.Tensor3D;
    const [l1, l2] = mlp.layers as [typeof mlp.layers[0], typeof mlp.layers[0]];
    const h = tf.matMul(x.reshape([2, 3]), l1.weight, false, true).add(l1.bias!);
    const erfGelu = h.mul(tf.erf(h.div(Math.SQRT2)).add(1)).mul(0.5);
    const want = tf.matMul(erfGelu, l2.weight, false, true).add(l2.bias!);
    expect(tf.max(tf.abs(mlp.forward(x).reshape([2, 4]).sub(want))).dataSync()[0]).toBeLessThan(1e-5);
  });

  it('with inputNorm, LayerNorm over the encoder width first (HF name norm.*), then the MLP; gradients check', () => {
    const mlp = new MlpProjector(mlpProjectorSchema.parse({ type: 'mlp', inputNorm: true }), 3, 4, new Rng(2));
    expect(Object.keys(mlp.stateDict())).toEqual(expect.arrayContaining(['norm.weight', 'norm.bias']));
    tf.tidy(() => {
      mlp.inputNorm!.weight.assign(tf.tensor1d([0.5, 2, -1]));
      mlp.inputNorm!.bias.assign(tf.tensor1d([0.1, 0, 0.3]));
    });
    const x = tf.randomNormal([1, 2, 3], 0, 40, 'float32', 1) as tf.Tensor3D; // large, as merged tokens are
    const rows = x.reshape([2, 3]).arraySync() as number[][];
    const normed = rows.map((r) => {
      const mu = r.reduce((a, v) => a + v, 0) / 3;
      const variance = r.reduce((a, v) => a + (v - mu) ** 2, 0) / 3;
      return r.map((v, k) => ((v - mu) / Math.sqrt(variance + 1e-5)) * [0.5, 2, -1][k]! + [0.1, 0, 0.3][k]!);
    });
    const plain = new MlpProjector({ type: 'mlp', depth: 2, inputNorm: false }, 3, 4, new Rng(2));
    const want = plain.forward(tf.tensor3d([normed]) as tf.Tensor3D);
    expect(tf.max(tf.abs(mlp.forward(x).sub(want))).dataSync()[0]).toBeLessThan(1e-4);
    const up = tf.randomNormal([1, 2, 4], 0, 1, 'float32', 3);
    const r = checkParameterGradients(() => mlp.forward(tf.randomNormal([1, 2, 3], 0, 1, 'float32', 4) as tf.Tensor3D).mul(up).sum(), mlp.parameters());
    expect(r.maxRelError).toBeLessThan(3e-2);
  });

  it('depth 3 has three linears; depth 1 is a plain linear', () => {
    expect(new MlpProjector({ type: 'mlp', depth: 3 }, 3, 4, new Rng(1)).layers.length).toBe(3);
    expect(mlpProjectorSchema.safeParse({ type: 'mlp', depth: 0 }).success).toBe(false);
  });

  it('MLP connector passes a finite-difference gradient check', () => {
    const mlp = new MlpProjector({ type: 'mlp', depth: 2 }, 3, 4, new Rng(3));
    const x = tf.randomNormal([1, 2, 3], 0, 1, 'float32', 2);
    const up = tf.randomNormal([1, 2, 4], 0, 1, 'float32', 3);
    const r = checkParameterGradients(() => mlp.forward(x as tf.Tensor3D).mul(up).sum(), mlp.parameters());
    expect(r.checked).toBeGreaterThan(20);
    expect(r.maxRelError).toBeLessThan(3e-2);
  });

  it('linear connector is one Linear per token', () => {
    const lin = new LinearProjector(3, 5, new Rng(1));
    expect(lin.forward(tf.zeros([1, 7, 3]) as tf.Tensor3D).shape).toEqual([1, 7, 5]);
  });
});
