import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, Rng, zodIssues } from '@mllm/core';
import { gradientMismatches } from '@mllm/core/testing';
import { QFormer, qformerSchema } from './qformer';
import { QFormerLayer } from './qformer-layer';
import { QFormerMultiHeadAttention } from './qformer-attention';

const issues = (config: unknown) => {
  const r = qformerSchema.safeParse(config);
  return r.success ? [] : zodIssues(r.error, 'connector');
};

describe('qformer schema', () => {
  it('fills BLIP-2 defaults; the width is left to the encoder', () => {
    expect(qformerSchema.parse({ type: 'qformer' })).toEqual({ type: 'qformer', numQueries: 32, layers: 2, heads: 4, mlpRatio: 4 });
  });

  it('names the field and the path of a bad query count', () => {
    for (const numQueries of [0, -3, 2.5, '8']) {
      const [issue, ...rest] = issues({ type: 'qformer', numQueries });
      expect(rest).toEqual([]);
      expect(issue!.path).toBe('connector.numQueries');
      expect(issue!.message).toMatch(/^numQueries must be/);
    }
  });

  it('requires heads to divide dim, reported on heads with the choices', () => {
    expect(issues({ type: 'qformer', dim: 30, heads: 4 })).toEqual([
      { path: 'connector.heads', message: 'heads 4 must divide dim 30; pick heads from 1, 2, 3, 5, 6, 10, 15, 30' },
    ]);
    expect(issues({ type: 'qformer', dim: 32, heads: 4 })).toEqual([]);
  });

  it('rejects unknown fields', () => {
    expect(issues({ type: 'qformer', numQuery: 8 })).toEqual([{ path: 'connector', message: 'unknown field(s) "numQuery"' }]);
  });

  it('checks the default width (the encoder width) against heads when the connector is built', () => {
    const build = () => new QFormer(qformerSchema.parse({ type: 'qformer', heads: 4 }), 6, 8, new Rng(1));
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/connector\.heads: heads 4 must divide dim, which defaults to the encoder width, 6/);
  });
});

describe('QFormer', () => {
  it('has stable HF-style parameter names and shapes', () => {
    const q = new QFormer(qformerSchema.parse({ type: 'qformer', numQueries: 3, layers: 1, dim: 8, heads: 2, mlpRatio: 2 }), 6, 10, new Rng(1));
    const shapes = Object.fromEntries(Object.entries(q.stateDict()).map(([n, t]) => [n, t.shape]));
    const l = 'qformer.encoder.layer.0';
    expect(shapes).toEqual({
      query_tokens: [1, 3, 8],
      'ln_vision.weight': [6],
      'ln_vision.bias': [6],
      'qformer.layernorm.weight': [8],
      'qformer.layernorm.bias': [8],
      [`${l}.attention.input_layernorm.weight`]: [8],
      [`${l}.attention.input_layernorm.bias`]: [8],
      [`${l}.attention.attention.query.weight`]: [8, 8],
      [`${l}.attention.attention.query.bias`]: [8],
      [`${l}.attention.attention.key.weight`]: [8, 8],
      [`${l}.attention.attention.value.weight`]: [8, 8],
      [`${l}.attention.attention.value.bias`]: [8],
      [`${l}.attention.output.dense.weight`]: [8, 8],
      [`${l}.attention.output.dense.bias`]: [8],
      [`${l}.crossattention.input_layernorm.weight`]: [8],
      [`${l}.crossattention.input_layernorm.bias`]: [8],
      [`${l}.crossattention.attention.query.weight`]: [8, 8],
      [`${l}.crossattention.attention.query.bias`]: [8],
      [`${l}.crossattention.attention.key.weight`]: [8, 6],
      [`${l}.crossattention.attention.value.weight`]: [8, 6],
      [`${l}.crossattention.attention.value.bias`]: [8],
      [`${l}.crossattention.output.dense.weight`]: [8, 8],
      [`${l}.crossattention.output.dense.bias`]: [8],
      [`${l}.intermediate_query.input_layernorm.weight`]: [8],
      [`${l}.intermediate_query.input_layernorm.bias`]: [8],
      [`${l}.intermediate_query.dense.weight`]: [16, 8],
      [`${l}.intermediate_query.dense.bias`]: [16],
      [`${l}.output_query.dense.weight`]: [8, 16],
      [`${l}.output_query.dense.bias`]: [8],
      'qformer.final_layernorm.weight': [8],
      'qformer.final_layernorm.bias': [8],
      'language_projection.weight': [10, 8],
      'language_projection.bias': [10],
    });
  });

  it('defaults its width to the encoder width; two layers double the block parameters', () => {
    const q = new QFormer(qformerSchema.parse({ type: 'qformer', numQueries: 4, heads: 2 }), 6, 10, new Rng(1));
    expect(q.dim).toBe(6);
    expect(q.queryTokens.shape).toEqual([1, 4, 6]);
    const names = Object.keys(q.stateDict());
    expect(names.filter((n) => n.startsWith('qformer.encoder.layer.1.')).length).toBe(names.filter((n) => n.startsWith('qformer.encoder.layer.0.')).length);
    expect(names.some((n) => n.startsWith('qformer.encoder.layer.2.'))).toBe(false);
  });

  it('the same seed gives the same weights', () => {
    const make = () => new QFormer(qformerSchema.parse({ type: 'qformer', numQueries: 2, layers: 1, heads: 2 }), 4, 6, new Rng(7));
    const [a, b] = [make().stateDict(), make().stateDict()];
    for (const name of Object.keys(a)) expect(Array.from(a[name]!.dataSync())).toEqual(Array.from(b[name]!.dataSync()));
  });
});

describe('Q-Former blocks', () => {
  it('multi-head attention with D_enc-wide keys/values equals an independent per-head computation', () => {
    const attn = new QFormerMultiHeadAttention(4, 3, 2, new Rng(5));
    const x = tf.randomNormal([1, 2, 4], 0, 1, 'float32', 1) as tf.Tensor3D;
    const kv = tf.randomNormal([1, 3, 3], 0, 1, 'float32', 2) as tf.Tensor3D;
    const proj = (t: tf.Tensor3D, l: { weight: tf.Variable; bias?: tf.Variable }) => {
      const y = tf.matMul(t.reshape([-1, t.shape[2]]), l.weight, false, true);
      return (l.bias ? y.add(l.bias) : y).arraySync() as number[][];
    };
    const [q, k, v] = [proj(x, attn.query), proj(kv, attn.key), proj(kv, attn.value)];
    const want = [0, 1].map((t) =>
      [0, 1].flatMap((h) => {
        const cols = [2 * h, 2 * h + 1];
        const s = [0, 1, 2].map((j) => cols.reduce((acc, c) => acc + q[t]![c]! * k[j]![c]!, 0) / Math.sqrt(2));
        const e = s.map((z) => Math.exp(z - Math.max(...s)));
        const p = e.map((z) => z / e.reduce((a, b) => a + b));
        return cols.map((c) => p.reduce((acc, pj, j) => acc + pj * v[j]![c]!, 0));
      }),
    );
    const got = attn.forward(x, kv).arraySync()[0]!;
    want.forEach((row, t) => row.forEach((val, c) => expect(got[t]![c]).toBeCloseTo(val, 5)));
  });

  it('a Q-Former layer passes a finite-difference gradient check w.r.t. parameters and both inputs', () => {
    const layer = new QFormerLayer({ dim: 8, encoderDim: 6, heads: 2, mlpHidden: 12 }, new Rng(2));
    const queries = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 3);
    const feats = tf.randomNormal([2, 4, 6], 0, 1, 'float32', 4);
    const up = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 5);
    const f = (q: tf.Tensor, m: tf.Tensor) => layer.forward(q as tf.Tensor3D, m as tf.Tensor3D).mul(up).sum() as tf.Scalar;
    expect(gradientMismatches(f, layer.namedParameters(), [['queries', queries], ['features', feats]])).toEqual([]);
  });

  it('self-attention lets each query see the others: moving one changes another', () => {
    const layer = new QFormerLayer({ dim: 8, encoderDim: 6, heads: 2, mlpHidden: 12 }, new Rng(3));
    const feats = tf.randomNormal([1, 4, 6], 0, 1, 'float32', 6) as tf.Tensor3D;
    const q = tf.randomNormal([1, 2, 8], 0, 1, 'float32', 7) as tf.Tensor3D;
    const moved = tf.concat([q.slice([0, 0, 0], [1, 1, 8]), tf.randomNormal([1, 1, 8], 0, 1, 'float32', 8)], 1) as tf.Tensor3D;
    const first = (t: tf.Tensor3D) => layer.forward(t, feats).slice([0, 0, 0], [1, 1, 8]);
    expect(tf.max(tf.abs(first(q).sub(first(moved)))).dataSync()[0]).toBeGreaterThan(1e-3);
  });
});
