import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@mllm/core';
import { VisionTransformer, vitSchema } from './vit';

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
});
