import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@mllm/core';
import { checkParameterGradients } from '@mllm/core/testing';
import { geluTanh, quickGelu } from './activations';
import { VisionTransformer, featureDepth, vitSchema } from './vit';

const config = vitSchema.parse({ type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 2, heads: 2 });

describe('VisionTransformer', () => {
  it('returns patch tokens without CLS from the penultimate layer by default', () => {
    const vit = new VisionTransformer(config, new Rng(1));
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    expect(vit.encode(x).shape).toEqual([2, 4, 16]);
    expect(vit.numTokens).toBe(4);
    expect(vit.pooled(x).shape).toEqual([2, 16]);
  });

  it('uses HF CLIPVisionModel parameter names', () => {
    const names = Object.keys(new VisionTransformer(config, new Rng(1)).stateDict());
    expect(names).toContain('embeddings.patch_embedding.weight');
    expect(names).toContain('embeddings.class_embedding');
    expect(names).toContain('embeddings.position_embedding.weight');
    expect(names).toContain('pre_layrnorm.weight');
    expect(names).toContain('encoder.layers.1.self_attn.out_proj.bias');
    expect(names).toContain('encoder.layers.0.mlp.fc1.weight');
    expect(names).toContain('post_layernorm.weight');
  });

  it('patch embedding equals a stride-P convolution with HF [D, C, P, P] weights', () => {
    const vit = new VisionTransformer(vitSchema.parse({ ...config, layers: 1 }), new Rng(2));
    const x = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const ours = (vit.embeddings as unknown as { forward(p: tf.Tensor4D): tf.Tensor3D }).forward(x).slice([0, 1, 0], [1, 4, 16]);
    const kernel = vit.embeddings.patchWeight.transpose([2, 3, 1, 0]) as tf.Tensor4D; // [P, P, C, D] for tf.conv2d
    const conv = tf.conv2d(x, kernel, 8, 'valid').reshape([1, 4, 16]).add(vit.embeddings.positionEmbedding.slice([1, 0], [4, 16]));
    expect(tf.max(tf.abs(ours.sub(conv))).dataSync()[0]).toBeLessThan(1e-5);
  });

  it('rejects images of the wrong size with a fix in the message', () => {
    const vit = new VisionTransformer(config, new Rng(1));
    expect(() => vit.encode(tf.zeros([1, 8, 8, 3]) as tf.Tensor4D)).toThrow(/expected pixels \[B, 16, 16, 3\].*encoder.imageSize/);
  });

  it('the schema rejects a patch size that does not divide the image', () => {
    expect(vitSchema.safeParse({ type: 'vit', imageSize: 30, patchSize: 8 }).success).toBe(false);
  });

  it('siglip variant: HF SiglipVisionModel names, no CLS, and finite-difference-correct gradients through the pooling head', () => {
    const siglip = vitSchema.parse({ type: 'vit', variant: 'siglip', imageSize: 16, patchSize: 8, dim: 8, layers: 1, heads: 2, activation: 'gelu-tanh', attentionPool: true });
    const vit = new VisionTransformer(siglip, new Rng(3));
    const names = Object.keys(vit.stateDict());
    expect(names).toContain('embeddings.patch_embedding.bias');
    expect(names).toContain('head.attention.in_proj_weight');
    expect(names).toContain('head.probe');
    expect(names).not.toContain('embeddings.class_embedding');
    expect(names.some((n) => n.startsWith('pre_layrnorm'))).toBe(false);
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    expect(vit.encode(x).shape).toEqual([2, 4, 8]);
    expect(vit.numTokens).toBe(4);
    const target = tf.randomNormal([2, 8], 0, 1, 'float32', 5);
    const loss = () => vit.pooled(x).mul(target).sum() as tf.Scalar;
    const head = vit.head!;
    const check = checkParameterGradients(loss, [head.probe, head.attention.inProjWeight, vit.embeddings.patchBias!, vit.blocks[0]!.mlp.parameters()[0]!], { samples: 6 });
    expect(check.maxAbsError).toBeLessThan(5e-2);
  });

  it('activations match their formulas: quick_gelu x sigmoid(1.702 x), tanh-GELU', () => {
    const xs = [-3, -1, -0.2, 0, 0.5, 2];
    const q = quickGelu(tf.tensor1d(xs)).arraySync();
    const g = geluTanh(tf.tensor1d(xs)).arraySync();
    xs.forEach((x, i) => {
      expect(q[i]).toBeCloseTo(x / (1 + Math.exp(-1.702 * x)), 5);
      expect(g[i]).toBeCloseTo(0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))), 5);
    });
  });

  it('featureLayer counts as HF hidden_states: 0 the embeddings, -1 the last block, -2 the penultimate', () => {
    expect([featureDepth(0, 4), featureDepth(-1, 4), featureDepth(-2, 4), featureDepth(2, 4), featureDepth('penultimate', 4), featureDepth('last', 4)]).toEqual([0, 4, 3, 2, 3, 4]);
    expect(vitSchema.safeParse({ type: 'vit', layers: 2, featureLayer: -4 }).success).toBe(false);
    const vit = new VisionTransformer(vitSchema.parse({ ...config, featureLayer: -2 }), new Rng(1));
    const named = new VisionTransformer(vitSchema.parse({ ...config, featureLayer: 'penultimate' }), new Rng(1));
    const x = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
    expect(vit.encode(x).arraySync()).toEqual(named.encode(x).arraySync());
  });
});
