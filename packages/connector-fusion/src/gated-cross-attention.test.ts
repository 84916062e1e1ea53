import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, Rng, zodIssues } from '@mllm/core';
import { GatedCrossAttention, crossAttentionLayers, gatedCrossAttentionSchema } from './gated-cross-attention';
import { MediaLayout } from './media-layout';

const issues = (config: unknown) => {
  const r = gatedCrossAttentionSchema.safeParse(config);
  return r.success ? [] : zodIssues(r.error, 'connector');
};
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0]!);
const make = (config: Record<string, unknown> = {}, layers = 2) =>
  new GatedCrossAttention(gatedCrossAttentionSchema.parse({ type: 'gated-cross-attention', heads: 2, mlpRatio: 2, ...config }), 6, 8, layers, new Rng(3));
const openGates = (c: GatedCrossAttention, value = 0.7) => {
  for (const b of c.blocks.values()) {
    b.attnGate.assign(tf.tensor1d([value]));
    b.ffGate.assign(tf.tensor1d([-value]));
  }
};

describe('gated cross-attention schema', () => {
  it('fills open_flamingo-like defaults and rejects unknown fields', () => {
    expect(gatedCrossAttentionSchema.parse({ type: 'gated-cross-attention' })).toEqual({ type: 'gated-cross-attention', every: 1, heads: 4, mlpRatio: 4 });
    expect(issues({ type: 'gated-cross-attention', cross_attn_every_n_layers: 2 })).toEqual([
      { path: 'connector', message: 'unknown field(s) "cross_attn_every_n_layers"' },
    ]);
  });

  it('names connector.every when it is 0 or more than the LLM has layers', () => {
    expect(issues({ type: 'gated-cross-attention', every: 0 })).toEqual([
      { path: 'connector.every', message: 'every must be >= 1: a cross-attention block goes before every k-th decoder layer' },
    ]);
    let error: unknown;
    try {
      make({ every: 3 }, 2);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      { path: 'connector.every', message: "every 3 is more than the LLM's 2 decoder layers, so no block would be inserted; use 1..2" },
    ]);
    expect(() => make({ heads: 3 })).toThrow(/connector.heads: heads 3 must divide the LLM width 8/);
  });
});

describe('GatedCrossAttention', () => {
  it('puts a block before every k-th layer, named by that layer, with open_flamingo names', () => {
    expect(crossAttentionLayers(1, 3)).toEqual([0, 1, 2]);
    expect(crossAttentionLayers(2, 5)).toEqual([1, 3]);
    const c = make({ every: 2 }, 4);
    const shapes = Object.fromEntries(Object.entries(c.stateDict()).map(([n, t]) => [n, t.shape]));
    expect([...c.blocks.keys()]).toEqual([1, 3]);
    expect(new Set(Object.keys(shapes).filter((n) => n.startsWith('gated_cross_attn_layers.')).map((n) => n.split('.')[1]))).toEqual(new Set(['1', '3']));
    expect(shapes).toMatchObject({
      'media_proj.weight': [8, 6],
      'media_proj.bias': [8],
      'gated_cross_attn_layers.1.attn_gate': [1],
      'gated_cross_attn_layers.1.ff_gate': [1],
      'gated_cross_attn_layers.1.attn.norm.weight': [8],
      'gated_cross_attn_layers.1.attn.q_proj.weight': [8, 8],
      'gated_cross_attn_layers.1.attn.k_proj.weight': [8, 8],
      'gated_cross_attn_layers.1.attn.v_proj.weight': [8, 8],
      'gated_cross_attn_layers.1.attn.o_proj.weight': [8, 8],
      'gated_cross_attn_layers.3.ff.0.weight': [8],
      'gated_cross_attn_layers.3.ff.1.weight': [16, 8],
      'gated_cross_attn_layers.3.ff.3.weight': [8, 16],
    });
    expect([...c.blocks.values()].map((b) => [...b.attnGate.dataSync(), ...b.ffGate.dataSync()])).toEqual([[0, 0], [0, 0]]);
  });

  it('a position sees only the last image at or before it; before the first image, none', () => {
    // row 0: images at 1 and 4; row 1: one image at 3 (left-padded prompt); row 2: none
    const layout = new MediaLayout([{ row: 0, start: 1 }, { row: 1, start: 3 }, { row: 0, start: 4 }], 3, 2);
    expect(layout.imagesPerRow).toBe(2);
    expect(layout.visibleImage(0, 6)).toEqual([[-1, 0, 0, 0, 1, 1], [-1, -1, -1, 0, 0, 0], [-1, -1, -1, -1, -1, -1]]);
    // decoding: one query at sequence position past = 5
    expect(layout.visibleImage(5, 1)).toEqual([[1], [0], [-1]]);
    const { mask, hasMedia } = layout.masks(0, 6);
    const m = mask.arraySync() as number[][][][];
    expect(m[0]![0]![2]!.map((v) => (v === 0 ? 1 : 0))).toEqual([1, 1, 0, 0]);
    expect(m[0]![0]![5]!.map((v) => (v === 0 ? 1 : 0))).toEqual([0, 0, 1, 1]);
    expect(m[1]![0]![4]!.map((v) => (v === 0 ? 1 : 0))).toEqual([1, 1, 0, 0]);
    expect((hasMedia.arraySync() as number[][][]).map((r) => r.map(([v]) => v))).toEqual([[0, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0]]);
  });

  it('with closed gates the hooks return the hidden states unchanged', () => {
    const c = make();
    const hidden = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 1) as tf.Tensor3D;
    const fusion = c.bind(tf.randomNormal([2, 3, 6], 0, 1, 'float32', 2) as tf.Tensor3D, [{ row: 0, start: 1 }, { row: 1, start: 0 }], 2);
    for (const layer of [0, 1]) expect(maxDiff(fusion.beforeLayer!(layer, hidden, { past: 0 }), hidden)).toBe(0);
    fusion.dispose();
  });

  it('with open gates each position reads only its own image, and text before it none', () => {
    const c = make();
    openGates(c);
    const hidden = tf.randomNormal([1, 7, 8], 0, 1, 'float32', 1) as tf.Tensor3D;
    const slots = [{ row: 0, start: 2 }, { row: 0, start: 4 }];
    const run = (first: number, second: number) => {
      const features = tf.concat([tf.fill([1, 3, 6], first), tf.fill([1, 3, 6], second)]) as tf.Tensor3D;
      const fusion = c.bind(features, slots, 1);
      const out = fusion.beforeLayer!(0, hidden, { past: 0 });
      fusion.dispose();
      return out;
    };
    const base = run(0.1, 0.2);
    const firstChanged = run(0.9, 0.2);
    const secondChanged = run(0.1, 0.9);
    const span = (x: tf.Tensor, from: number, to: number) => x.slice([0, from, 0], [1, to - from, -1]);
    // positions 0-1 precede both images; 2-3 see the first; 4-6 the second
    expect(maxDiff(span(base, 0, 2), span(firstChanged, 0, 2))).toBe(0);
    expect(maxDiff(span(base, 0, 4), span(secondChanged, 0, 4))).toBe(0);
    expect(maxDiff(span(base, 4, 7), span(firstChanged, 4, 7))).toBe(0);
    expect(maxDiff(span(base, 2, 4), span(firstChanged, 2, 4))).toBeGreaterThan(1e-4);
    expect(maxDiff(span(base, 4, 7), span(secondChanged, 4, 7))).toBeGreaterThan(1e-4);
    // the gates did open: the hidden states moved
    expect(maxDiff(base, hidden)).toBeGreaterThan(1e-3);
  });

  it('a layer without a block passes the hidden states through, and bind leaks nothing', () => {
    const c = make({ every: 2 }, 2);
    openGates(c);
    const hidden = tf.randomNormal([1, 3, 8], 0, 1, 'float32', 1) as tf.Tensor3D;
    const features = tf.randomNormal([1, 3, 6], 0, 1, 'float32', 2) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    const fusion = c.bind(features, [{ row: 0, start: 0 }], 1);
    expect(fusion.beforeLayer!(0, hidden, { past: 0 })).toBe(hidden);
    tf.tidy(() => {
      fusion.beforeLayer!(1, hidden, { past: 0 });
    });
    fusion.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
