import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng, zodIssues } from '@mllm/core';
import { gradientMismatches } from '@mllm/core/testing';
import { PerceiverResampler, perceiverSchema } from './perceiver-resampler';
import { PerceiverAttention, PerceiverLayer } from './perceiver-layer';

const issues = (config: unknown) => {
  const r = perceiverSchema.safeParse(config);
  return r.success ? [] : zodIssues(r.error, 'connector');
};

describe('perceiver schema', () => {
  it('fills Flamingo defaults; the width is left to the encoder', () => {
    expect(perceiverSchema.parse({ type: 'perceiver' })).toEqual({ type: 'perceiver', numLatents: 64, layers: 2, heads: 4, mlpRatio: 4 });
  });

  it('names the field and the path of a bad latent count, and checks heads against dim', () => {
    const [issue] = issues({ type: 'perceiver', numLatents: 0 });
    expect(issue).toEqual({ path: 'connector.numLatents', message: 'numLatents must be >= 1: it is how many visual tokens each image becomes' });
    expect(issues({ type: 'perceiver', dim: 10, heads: 4 })).toEqual([
      { path: 'connector.heads', message: 'heads 4 must divide dim 10; pick heads from 1, 2, 5, 10' },
    ]);
    expect(issues({ type: 'perceiver', numQueries: 4 })).toEqual([{ path: 'connector', message: 'unknown field(s) "numQueries"' }]);
  });
});

describe('PerceiverResampler', () => {
  it('has stable open_flamingo-style parameter names and shapes', () => {
    const p = new PerceiverResampler(perceiverSchema.parse({ type: 'perceiver', numLatents: 3, layers: 1, heads: 2, mlpRatio: 2 }), 8, 10, new Rng(1));
    const shapes = Object.fromEntries(Object.entries(p.stateDict()).map(([n, t]) => [n, t.shape]));
    expect(shapes).toEqual({
      latents: [3, 8],
      'layers.0.0.norm_media.weight': [8],
      'layers.0.0.norm_media.bias': [8],
      'layers.0.0.norm_latents.weight': [8],
      'layers.0.0.norm_latents.bias': [8],
      'layers.0.0.attn.q_proj.weight': [8, 8],
      'layers.0.0.attn.k_proj.weight': [8, 8],
      'layers.0.0.attn.v_proj.weight': [8, 8],
      'layers.0.0.attn.o_proj.weight': [8, 8],
      'layers.0.1.0.weight': [8],
      'layers.0.1.0.bias': [8],
      'layers.0.1.1.weight': [16, 8],
      'layers.0.1.3.weight': [8, 16],
      'norm.weight': [8],
      'norm.bias': [8],
      'language_projection.weight': [10, 8],
      'language_projection.bias': [10],
    });
  });

  it('projects the media only when its width differs from the encoder width', () => {
    const same = new PerceiverResampler(perceiverSchema.parse({ type: 'perceiver', numLatents: 2, dim: 8, heads: 2 }), 8, 10, new Rng(1));
    expect(same.mediaProj).toBeUndefined();
    const other = new PerceiverResampler(perceiverSchema.parse({ type: 'perceiver', numLatents: 2, dim: 4, heads: 2 }), 8, 10, new Rng(1));
    expect(other.stateDict()['media_proj.weight']!.shape).toEqual([4, 8]);
    expect(other.latents.shape).toEqual([2, 4]);
  });
});

describe('Perceiver blocks', () => {
  it('latents attend to concat(media, latents), each normalised: equals an independent computation', () => {
    const attn = new PerceiverAttention(4, 2, new Rng(5));
    const media = tf.randomNormal([1, 3, 4], 0, 1, 'float32', 1) as tf.Tensor3D;
    const latents = tf.randomNormal([1, 2, 4], 0, 2, 'float32', 2) as tf.Tensor3D;
    // LayerNorm at init (weight 1, bias 0) is plain standardisation over the last axis
    const standardise = (t: tf.Tensor3D) => {
      const rows = t.reshape([-1, 4]).arraySync() as number[][];
      return rows.map((r) => {
        const mean = r.reduce((a, b) => a + b) / r.length;
        const variance = r.reduce((a, b) => a + (b - mean) ** 2, 0) / r.length;
        return r.map((v) => (v - mean) / Math.sqrt(variance + 1e-5));
      });
    };
    const m = standardise(media);
    const l = standardise(latents);
    const times = (rows: number[][], w: tf.Variable) => tf.matMul(tf.tensor2d(rows), w, false, true).arraySync() as number[][];
    const q = times(l, attn.attn.q.weight);
    const kvIn = [...m, ...l]; // the latents are keys/values too
    const [k, v] = [times(kvIn, attn.attn.k.weight), times(kvIn, attn.attn.v.weight)];
    const merged = [0, 1].map((t) =>
      [0, 1].flatMap((h) => {
        const cols = [2 * h, 2 * h + 1];
        const s = kvIn.map((_, j) => cols.reduce((acc, c) => acc + q[t]![c]! * k[j]![c]!, 0) / Math.sqrt(2));
        const e = s.map((z) => Math.exp(z - Math.max(...s)));
        const p = e.map((z) => z / e.reduce((a, b) => a + b));
        return cols.map((c) => p.reduce((acc, pj, j) => acc + pj * v[j]![c]!, 0));
      }),
    );
    const want = times(merged, attn.attn.o.weight);
    const got = attn.forward(media, latents).arraySync()[0]!;
    want.forEach((row, t) => row.forEach((val, c) => expect(got[t]![c]).toBeCloseTo(val, 4)));
  });

  it('a perceiver layer passes a finite-difference gradient check w.r.t. parameters and both inputs', () => {
    const layer = new PerceiverLayer({ dim: 8, heads: 2, mlpHidden: 12 }, new Rng(2));
    const media = tf.randomNormal([2, 4, 8], 0, 1, 'float32', 3);
    const latents = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 4);
    const up = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 5);
    const f = (m: tf.Tensor, l: tf.Tensor) => layer.forward(m as tf.Tensor3D, l as tf.Tensor3D).mul(up).sum() as tf.Scalar;
    expect(gradientMismatches(f, layer.namedParameters(), [['media', media], ['latents', latents]])).toEqual([]);
  });
});
