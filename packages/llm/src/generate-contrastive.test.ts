import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@mllm/core';
import { generateFromEmbeddings, type GenerationPrompt } from './generate';
import { contrastLogits } from './contrastive-decoding';
import { TEST_VOCAB as VOCAB, TWO_ROW_IDS as ids, TWO_ROW_MASK as mask, smallCausalLm } from './two-row-prompt.test-helper';

const lm = smallCausalLm(5);
/** The "distorted input": the same ids, embeddings moved by seeded noise (what a noised image does to its tokens). */
const noise = tf.randomNormal([2, 5, 16], 0, 0.8, 'float32', 11);
const embeds = () => lm.embed(tf.tensor2d(ids, [2, 5], 'int32'));
const withContrast = (): GenerationPrompt => {
  const real = embeds();
  return { embeds: real, attentionMask: mask, inputIds: ids, contrast: { embeds: tf.tidy(() => real.add(noise)) as tf.Tensor3D, attentionMask: mask } };
};
const dispose = (p: GenerationPrompt) => {
  p.embeds.dispose();
  p.contrast?.embeds.dispose();
};

/** Greedy VCD written independently: the whole sequence recomputed at each step, both inputs, no cache. */
function referenceVcd(steps: number, alpha: number, beta: number): number[][] {
  return tf.tidy(() => {
    let real = embeds();
    let distorted = real.add(noise) as tf.Tensor3D;
    const masks = mask.map((r) => [...r]);
    const out: number[][] = [[], []];
    for (let s = 0; s < steps; s++) {
      const last = (e: tf.Tensor3D) => {
        const l = lm.forward(e, { attentionMask: masks }).logits;
        return l.slice([0, l.shape[1] - 1, 0], [2, 1, VOCAB]).reshape([2 * VOCAB]).dataSync();
      };
      const combined = contrastLogits(last(real), last(distorted), VOCAB, { alpha, beta });
      const next = [0, 1].map((r) => {
        const row = combined.subarray(r * VOCAB, (r + 1) * VOCAB);
        return row.indexOf(Math.max(...row));
      });
      next.forEach((id, r) => out[r]!.push(id));
      const step = lm.embed(tf.tensor2d(next, [2, 1], 'int32'));
      real = tf.concat([real, step], 1) as tf.Tensor3D;
      distorted = tf.concat([distorted, step], 1) as tf.Tensor3D;
      masks.forEach((r) => r.push(1));
    }
    return out;
  });
}

describe('generate with contrastive decoding (VCD)', () => {
  it('alpha 0 is plain decoding, exactly, and needs no contrast input', () => {
    const p = withContrast();
    const plain = generateFromEmbeddings(lm, { embeds: p.embeds, attentionMask: mask, inputIds: ids }, { maxNewTokens: 6 });
    expect(generateFromEmbeddings(lm, p, { maxNewTokens: 6, contrastive: { alpha: 0, beta: 0.5 } })).toEqual(plain);
    expect(generateFromEmbeddings(lm, { embeds: p.embeds, attentionMask: mask }, { maxNewTokens: 6, contrastive: { alpha: 0 } })).toEqual(plain);
    dispose(p);
  });

  it('matches an independent recomputation of the contrasted logits, with the KV cache and without', () => {
    const expected = referenceVcd(6, 1, 0.1);
    for (const useCache of [true, false]) {
      const p = withContrast();
      expect(generateFromEmbeddings(lm, p, { maxNewTokens: 6, contrastive: { alpha: 1, beta: 0.1 }, useCache })).toEqual(expected);
      dispose(p);
    }
  });

  it('changes the tokens when the distorted input differs (the test would not see a no-op)', () => {
    const p = withContrast();
    const plain = generateFromEmbeddings(lm, { embeds: p.embeds, attentionMask: mask }, { maxNewTokens: 8 });
    const strong = generateFromEmbeddings(lm, p, { maxNewTokens: 8, contrastive: { alpha: 3, beta: 0.01 } });
    expect(strong).not.toEqual(plain);
    dispose(p);
  });

  it('refuses alpha > 0 without a contrast input of the same shape, and bad strengths', () => {
    const real = embeds();
    expect(() => generateFromEmbeddings(lm, { embeds: real, attentionMask: mask }, { maxNewTokens: 2, contrastive: { alpha: 1 } })).toThrow(/prompt\.contrast.*none given/);
    const short = { embeds: real.slice([0, 0, 0], [2, 4, 16]) as tf.Tensor3D, attentionMask: mask };
    expect(() => generateFromEmbeddings(lm, { embeds: real, attentionMask: mask, contrast: short }, { maxNewTokens: 2, contrastive: { alpha: 1 } })).toThrow(/got \[2, 4, 16\]/);
    expect(() => generateFromEmbeddings(lm, { embeds: real, attentionMask: mask }, { maxNewTokens: 2, contrastive: { alpha: -1 } })).toThrow(ConfigError);
    expect(() => generateFromEmbeddings(lm, { embeds: real, attentionMask: mask }, { maxNewTokens: 2, contrastive: { alpha: 1, beta: 0 } })).toThrow(/beta/);
    short.embeds.dispose();
    real.dispose();
  });
});
