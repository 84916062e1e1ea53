import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Attention, Rng, type LayerFusion } from '@mllm/core';
import { CausalLM, causalLmSchema } from './causal-lm';
import { generateFromEmbeddings } from './generate';
import { createKvCache, disposeKvCache } from './kv-cache';

const make = (seed = 1) => new CausalLM(causalLmSchema.parse({ type: 'causal', dim: 16, layers: 2, heads: 4, kvHeads: 2 }), 11, new Rng(seed));
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0]!);

/** A stand-in adapter: fixed prompt states for layer 1 only, per-head gate as given. */
function prefixHook(gate: number[], calls: number[] = []): LayerFusion {
  const states = tf.keep(tf.randomNormal([1, 3, 16], 0, 1, 'float32', 21)) as tf.Tensor3D;
  const g = tf.keep(tf.tensor1d(gate));
  return {
    kvPrefix(layer) {
      calls.push(layer);
      return layer === 1 ? { states, gate: g } : undefined;
    },
    dispose: () => tf.dispose([states, g]),
  };
}

describe('Attention key/value prefix (LLaMA-Adapter zero-init attention)', () => {
  it('equals an independent per-head computation: own softmax over the prompts, gated per head, no RoPE on them', () => {
    const attn = new Attention({ dim: 4, numHeads: 2, numKvHeads: 1, bias: false }, new Rng(5));
    const x = tf.randomNormal([1, 3, 4], 0, 1, 'float32', 3) as tf.Tensor3D;
    const prompts = tf.randomNormal([1, 2, 4], 0, 1, 'float32', 4) as tf.Tensor3D;
    const gate = [0.6, -0.4];
    const got = (attn.forward(x, { prefix: { states: prompts, gate: tf.tensor1d(gate) } }).out.arraySync() as number[][][])[0]!;
    const proj = (input: tf.Tensor3D, l: { weight: tf.Variable }, n: number) =>
      tf.matMul(input.reshape([n, 4]), l.weight, false, true).arraySync() as number[][];
    const [q, k, v] = [proj(x, attn.q, 3), proj(x, attn.k, 3), proj(x, attn.v, 3)];
    const [kp, vp] = [proj(prompts, attn.k, 2), proj(prompts, attn.v, 2)];
    const softmaxMix = (qt: number[], keys: number[][], values: number[][]) => {
      const s = keys.map((kj) => (qt[0]! * kj[0]! + qt[1]! * kj[1]!) / Math.sqrt(2));
      const e = s.map((z) => Math.exp(z - Math.max(...s)));
      const sum = e.reduce((a, b) => a + b);
      return [0, 1].map((c) => e.reduce((acc, ej, j) => acc + (ej / sum) * values[j]![c]!, 0));
    };
    // no mask: every query sees all 3 sequence keys, and always both prompts
    const merged = [0, 1, 2].map((t) =>
      [0, 1].flatMap((h) => {
        const qt = q[t]!.slice(2 * h, 2 * h + 2);
        const own = softmaxMix(qt, k, v);
        const extra = softmaxMix(qt, kp, vp);
        return own.map((o, c) => o + gate[h]! * extra[c]!);
      }),
    );
    const want = tf.matMul(tf.tensor2d(merged), attn.o.weight, false, true).arraySync() as number[][];
    want.forEach((row, t) => row.forEach((val, c) => expect(got[t]![c]).toBeCloseTo(val, 4)));
  });

  it('with a zero gate the output is exactly the plain one, and the prompts never reach `present`', () => {
    const attn = new Attention({ dim: 8, numHeads: 2 }, new Rng(6));
    const x = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 3) as tf.Tensor3D;
    const prefix = { states: tf.randomNormal([2, 4, 8], 0, 1, 'float32', 8) as tf.Tensor3D, gate: tf.zeros([2]) as tf.Tensor1D };
    const plain = attn.forward(x);
    const withPrefix = attn.forward(x, { prefix });
    expect(maxDiff(withPrefix.out, plain.out)).toBe(0);
    expect(withPrefix.present.key.shape).toEqual([2, 2, 3, 4]);
    expect(() => attn.forward(x, { prefix: { ...prefix, gate: tf.zeros([3]) as tf.Tensor1D } })).toThrow(/one per head \(2\)/);
  });
});

describe('CausalLM kv-prefix plug point', () => {
  it('asks for a prefix at every layer; a zero gate gives the bare logits, an open one moves them', () => {
    const lm = make();
    expect(lm.fusionPoints).toContain('kv-prefix');
    expect(lm.numHeads).toBe(4);
    const embeds = lm.embed(tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32'));
    const bare = lm.forward(embeds).logits;
    const calls: number[] = [];
    const closed = prefixHook([0, 0, 0, 0], calls);
    expect(maxDiff(lm.forward(embeds, { fusion: closed }).logits, bare)).toBeLessThan(1e-6);
    expect(calls).toEqual([0, 1]);
    const open = prefixHook([0.9, -0.5, 0.3, 0.7]);
    expect(maxDiff(lm.forward(embeds, { fusion: open }).logits, bare)).toBeGreaterThan(1e-3);
    closed.dispose();
    open.dispose();
  });

  it('keeps the prompts out of the KV cache, and cached decoding equals full recompute', () => {
    const lm = make(3);
    const fusion = prefixHook([1.5, -1.2, 0.8, 1.1]);
    const cache = createKvCache();
    lm.forward(lm.embed(tf.tensor2d([[2, 4, 6]], [1, 3], 'int32')), { cache, fusion });
    expect(cache.layers.map((l) => l!.key.shape[2])).toEqual([3, 3]);
    disposeKvCache(cache);
    const prompt = [2, 4, 6];
    const cached = generateFromEmbeddings(lm, { embeds: lm.embed(tf.tensor2d([prompt], [1, 3], 'int32')), attentionMask: [[1, 1, 1]], fusion }, { maxNewTokens: 5, stopTokens: [] })[0]!;
    const seq = [...prompt];
    for (let i = 0; i < 5; i++) {
      const logits = lm.forward(lm.embed(tf.tensor2d([seq], [1, seq.length], 'int32')), { fusion }).logits;
      seq.push(logits.slice([0, seq.length - 1, 0], [1, 1, -1]).argMax(-1).dataSync()[0]!);
    }
    expect(cached).toEqual(seq.slice(3));
    const bare = generateFromEmbeddings(lm, { embeds: lm.embed(tf.tensor2d([prompt], [1, 3], 'int32')), attentionMask: [[1, 1, 1]] }, { maxNewTokens: 5, stopTokens: [] })[0]!;
    // the prefix is strong enough to change the greedy tokens, so the equality above is not vacuous
    expect(bare).not.toEqual(cached);
    fusion.dispose();
  });
});
