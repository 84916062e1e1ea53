import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Attention } from './attention';
import { RotaryEmbedding } from './rope';
import { buildAttentionMask } from './masks';
import { Rng } from '../rng';
import { checkGradients } from '../grad-check';

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(a.sub(b))).dataSync()[0]!;

describe('Attention', () => {
  const attn = new Attention({ dim: 8, numHeads: 4, numKvHeads: 2 }, new Rng(1));
  const rotary = new RotaryEmbedding(2);
  const tables = rotary.tables([[0, 1, 2, 3, 4]]);

  it('causal mask: a future token cannot change a past output', () => {
    const x = tf.randomNormal([1, 5, 8], 0, 1, 'float32', 1) as tf.Tensor3D;
    const x2 = tf.concat([x.slice([0, 0, 0], [1, 4, 8]), tf.randomNormal([1, 1, 8], 0, 1, 'float32', 9)], 1) as tf.Tensor3D;
    const mask = buildAttentionMask(1, 5, { pattern: 'causal' });
    const a = attn.forward(x, { mask, rope: { rotary, tables } }).out;
    const b = attn.forward(x2, { mask, rope: { rotary, tables } }).out;
    expect(maxDiff(a.slice([0, 0, 0], [1, 4, 8]), b.slice([0, 0, 0], [1, 4, 8]))).toBeLessThan(1e-6);
    expect(maxDiff(a.slice([0, 4, 0], [1, 1, 8]), b.slice([0, 4, 0], [1, 1, 8]))).toBeGreaterThan(1e-4);
  });

  it('prefix mask: positions inside the prefix see each other, the rest is causal', () => {
    const m = buildAttentionMask(1, 4, { pattern: 'prefix', prefixLengths: [2] }).reshape([4, 4]).arraySync() as number[][];
    const visible = m.map((row) => row.map((v) => (v === 0 ? 1 : 0)));
    expect(visible).toEqual([[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]);
  });

  it('KV cache: incremental decoding equals full recompute', () => {
    const x = tf.randomNormal([1, 5, 8], 0, 1, 'float32', 2) as tf.Tensor3D;
    const full = attn.forward(x, { mask: buildAttentionMask(1, 5, { pattern: 'causal' }), rope: { rotary, tables } }).out;
    const first = attn.forward(x.slice([0, 0, 0], [1, 4, 8]), {
      mask: buildAttentionMask(1, 4, { pattern: 'causal' }),
      rope: { rotary, tables: rotary.tables([[0, 1, 2, 3]]) },
    });
    const step = attn.forward(x.slice([0, 4, 0], [1, 1, 8]), {
      mask: buildAttentionMask(1, 5, { pattern: 'causal', queryLength: 1 }),
      rope: { rotary, tables: rotary.tables([[4]]) },
      past: first.present,
    });
    expect(maxDiff(step.out, full.slice([0, 4, 0], [1, 1, 8]))).toBeLessThan(1e-5);
  });

  it('equals an independent per-head loop computation (GQA head sharing, softmax scale)', () => {
    const small = new Attention({ dim: 4, numHeads: 2, numKvHeads: 1, bias: false }, new Rng(5));
    const x = tf.randomNormal([1, 3, 4], 0, 1, 'float32', 3) as tf.Tensor3D;
    const got = small.forward(x).out.arraySync()[0]!;
    const proj = (l: { weight: tf.Variable }) => tf.matMul(x.reshape([3, 4]), l.weight, false, true).arraySync() as number[][];
    const [q, k, v] = [proj(small.q), proj(small.k), proj(small.v)];
    const merged = [0, 1, 2].map((t) =>
      [0, 1].flatMap((h) => {
        const s = [0, 1, 2].map((j) => (q[t]![2 * h]! * k[j]![0]! + q[t]![2 * h + 1]! * k[j]![1]!) / Math.sqrt(2));
        const e = s.map((z) => Math.exp(z - Math.max(...s)));
        const p = e.map((z) => z / e.reduce((a, b) => a + b));
        return [0, 1].map((c) => p.reduce((acc, pj, j) => acc + pj * v[j]![c]!, 0));
      }),
    );
    const want = tf.matMul(tf.tensor2d(merged), small.o.weight, false, true).arraySync() as number[][];
    want.forEach((row, t) => row.forEach((val, c) => expect(got[t]![c]).toBeCloseTo(val, 4)));
  });

  it('boost: scores s at the boosted (query, key) pairs become s + alpha |s| before the softmax (PAI), as a per-head loop says', () => {
    const small = new Attention({ dim: 4, numHeads: 2, numKvHeads: 1, bias: false }, new Rng(5));
    const x = tf.randomNormal([1, 3, 4], 0, 1, 'float32', 3) as tf.Tensor3D;
    const alpha = 0.7;
    const boosted = [[0, 0, 0], [0, 0, 0], [1, 1, 0]]; // the last query's attention to keys 0 and 1
    const mask = tf.tensor4d(boosted.flat(), [1, 1, 3, 3]);
    const got = small.forward(x, { boost: { mask, alpha } }).out.arraySync()[0]!;
    const proj = (l: { weight: tf.Variable }) => tf.matMul(x.reshape([3, 4]), l.weight, false, true).arraySync() as number[][];
    const [q, k, v] = [proj(small.q), proj(small.k), proj(small.v)];
    const merged = [0, 1, 2].map((t) =>
      [0, 1].flatMap((h) => {
        const s = [0, 1, 2].map((j) => {
          const z = (q[t]![2 * h]! * k[j]![0]! + q[t]![2 * h + 1]! * k[j]![1]!) / Math.sqrt(2);
          return boosted[t]![j] ? z + alpha * Math.abs(z) : z;
        });
        const e = s.map((z) => Math.exp(z - Math.max(...s)));
        const p = e.map((z) => z / e.reduce((a, b) => a + b));
        return [0, 1].map((c) => p.reduce((acc, pj, j) => acc + pj * v[j]![c]!, 0));
      }),
    );
    const want = tf.matMul(tf.tensor2d(merged), small.o.weight, false, true).arraySync() as number[][];
    want.forEach((row, t) => row.forEach((val, c) => expect(got[t]![c]).toBeCloseTo(val, 4)));
    // rows 0 and 1 are untouched; row 2 moves
    const plain = small.forward(x).out.arraySync()[0]!;
    expect(got[0]).toEqual(plain[0]);
    expect(Math.max(...got[2]!.map((g, c) => Math.abs(g - plain[2]![c]!)))).toBeGreaterThan(1e-4);
  });

  it('passes a finite-difference check through RoPE and the mask', () => {
    const x = tf.randomNormal([1, 5, 8], 0, 0.5, 'float32', 4) as tf.Tensor3D;
    const mask = buildAttentionMask(1, 5, { pattern: 'causal' });
    const up = tf.randomNormal([1, 5, 8], 0, 1, 'float32', 7);
    const r = checkGradients((xx) => attn.forward(xx as tf.Tensor3D, { mask, rope: { rotary, tables } }).out.mul(up).sum(), [x], { samples: 16 });
    expect(r.maxRelError).toBeLessThan(3e-2);
  });
});
