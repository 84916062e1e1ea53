import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng, type LayerFusion } from '@mllm/core';
import { CausalLM, causalLmSchema } from './causal-lm';
import { generateFromEmbeddings } from './generate';

const make = (seed = 1) => new CausalLM(causalLmSchema.parse({ type: 'causal', dim: 16, layers: 2, heads: 4 }), 11, new Rng(seed));
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0]!);

/**
 * A stand-in fusion connector that depends on the absolute sequence position, as gated
 * cross-attention does: before layer 1 it adds a vector scaled by (position + 1) to positions
 * from `from` on. A cache that lost track of `past` would add the wrong amount.
 */
function positionHook(from: number, calls: [number, number, number][] = []): LayerFusion {
  const direction = tf.keep(tf.linspace(-1, 1, 16).reshape([1, 1, 16]));
  return {
    beforeLayer(layer, hidden, { past }) {
      calls.push([layer, hidden.shape[1], past]);
      if (layer !== 1) return hidden;
      return tf.tidy(() => {
        const t = hidden.shape[1];
        const scale = Array.from({ length: t }, (_, i) => (past + i >= from ? (past + i + 1) * 0.3 : 0));
        return hidden.add(tf.tensor3d(scale, [1, t, 1]).mul(direction)) as tf.Tensor3D;
      });
    },
    dispose: () => direction.dispose(),
  };
}

describe('CausalLM fusion plug point', () => {
  it('declares before-layer and calls the hook before every decoder layer with the cached length', () => {
    const lm = make();
    expect(lm.fusionPoints).toEqual(['before-layer', 'modality-routing', 'kv-prefix']);
    const calls: [number, number, number][] = [];
    const fusion = positionHook(2, calls);
    const ids = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
    const hooked = lm.forward(lm.embed(ids), { fusion }).logits;
    const bare = lm.forward(lm.embed(ids)).logits;
    expect(calls).toEqual([[0, 4, 0], [1, 4, 0]]);
    // positions before `from` are untouched; after it the hook moved the logits
    expect(maxDiff(hooked.slice([0, 0, 0], [1, 2, -1]), bare.slice([0, 0, 0], [1, 2, -1]))).toBeLessThan(1e-6);
    expect(maxDiff(hooked.slice([0, 2, 0], [1, 2, -1]), bare.slice([0, 2, 0], [1, 2, -1]))).toBeGreaterThan(1e-3);
    fusion.dispose();
  });

  it('KV-cache generation with the hook equals greedy by full recompute with it', () => {
    const lm = make(3);
    const prompt = [2, 4, 6];
    const fusion = positionHook(1);
    const calls: [number, number, number][] = [];
    const recording = positionHook(1, calls);
    const cached = generateFromEmbeddings(lm, { embeds: lm.embed(tf.tensor2d([prompt], [1, 3], 'int32')), attentionMask: [[1, 1, 1]], fusion: recording }, { maxNewTokens: 5, stopTokens: [] })[0]!;
    // prefill sees 3 queries from 0; each decode step one query at the next position
    expect(calls.filter(([layer]) => layer === 0)).toEqual([[0, 3, 0], [0, 1, 3], [0, 1, 4], [0, 1, 5], [0, 1, 6]]);
    const seq = [...prompt];
    for (let i = 0; i < 5; i++) {
      const logits = lm.forward(lm.embed(tf.tensor2d([seq], [1, seq.length], 'int32')), { fusion }).logits;
      seq.push(logits.slice([0, seq.length - 1, 0], [1, 1, -1]).argMax(-1).dataSync()[0]!);
    }
    expect(cached).toEqual(seq.slice(3));
    const bare = generateFromEmbeddings(lm, { embeds: lm.embed(tf.tensor2d([prompt], [1, 3], 'int32')), attentionMask: [[1, 1, 1]] }, { maxNewTokens: 5, stopTokens: [] })[0]!;
    // the hook is strong enough to matter, so equality above is not two bare runs agreeing
    expect(bare).not.toEqual(cached);
    fusion.dispose();
    recording.dispose();
  });
});
