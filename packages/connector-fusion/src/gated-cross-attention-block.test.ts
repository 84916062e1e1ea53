import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@mllm/core';
import { gradientMismatches } from '@mllm/core/testing';
import { GatedCrossAttention, gatedCrossAttentionSchema } from './gated-cross-attention';
import { GatedCrossAttentionBlock } from './gated-cross-attention-block';
import { MediaLayout } from './media-layout';

describe('GatedCrossAttentionBlock gradients', () => {
  it('passes a finite-difference check on every parameter and on the hidden states and media', () => {
    const block = new GatedCrossAttentionBlock({ dim: 8, heads: 2, mlpHidden: 16 }, new Rng(5));
    // open gates: at 0 every gradient but the gates' is exactly 0 and the check would prove nothing
    block.attnGate.assign(tf.tensor1d([0.6]));
    block.ffGate.assign(tf.tensor1d([-0.5]));
    const layout = new MediaLayout([{ row: 0, start: 1 }, { row: 1, start: 0 }, { row: 1, start: 2 }], 2, 3);
    const { mask, hasMedia } = layout.masks(0, 4);
    const hidden = tf.randomNormal([2, 4, 8], 0, 1, 'float32', 11);
    const media = tf.randomNormal([2, layout.keyLength, 8], 0, 1, 'float32', 12);
    const weights = tf.randomNormal([2, 4, 8], 0, 1, 'float32', 13);
    const f = (h: tf.Tensor, m: tf.Tensor) =>
      tf.tidy(() => block.forward(h as tf.Tensor3D, { media: m as tf.Tensor3D, mask, hasMedia }).mul(weights).sum() as tf.Scalar);
    expect(gradientMismatches(f, block.trainableParameters(), [['hidden', hidden], ['media', media]], { samples: 6 })).toEqual([]);
  });

  it('gradients reach the media projection through the per-row layout', () => {
    const c = new GatedCrossAttention(gatedCrossAttentionSchema.parse({ type: 'gated-cross-attention', heads: 2, mlpRatio: 2 }), 6, 8, 1, new Rng(3));
    for (const b of c.blocks.values()) b.attnGate.assign(tf.tensor1d([0.8]));
    const hidden = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 1) as tf.Tensor3D;
    const weights = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 4);
    const slots = [{ row: 1, start: 1 }, { row: 0, start: 0 }];
    const f = (features: tf.Tensor) =>
      tf.tidy(() => c.bind(features as tf.Tensor3D, slots, 2).beforeLayer!(0, hidden, { past: 0 }).mul(weights).sum() as tf.Scalar);
    const features = tf.randomNormal([2, 2, 6], 0, 1, 'float32', 7);
    const params = c.trainableParameters().filter(([n]) => n.startsWith('media_proj') || n.endsWith('attn_gate'));
    expect(gradientMismatches(f, params, [['features', features]], { samples: 6 })).toEqual([]);
  });
});
