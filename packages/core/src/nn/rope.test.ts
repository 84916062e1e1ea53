import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { RotaryEmbedding } from './rope';

describe('RotaryEmbedding', () => {
  it('follows the rotate-half convention: dim i pairs with i + d/2', () => {
    const rope = new RotaryEmbedding(4, 100);
    const x = tf.tensor4d([1, 2, 3, 4], [1, 1, 1, 4]);
    const got = rope.apply(x, rope.tables([[3]])).dataSync();
    const a0 = 3 * 1;
    const a1 = 3 * Math.pow(100, -2 / 4);
    const want = [
      1 * Math.cos(a0) - 3 * Math.sin(a0),
      2 * Math.cos(a1) - 4 * Math.sin(a1),
      3 * Math.cos(a0) + 1 * Math.sin(a0),
      4 * Math.cos(a1) + 2 * Math.sin(a1),
    ];
    want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 5));
  });
});

describe('RotaryEmbedding angles', () => {
  it('are built in float32 like HF (inv_freq = 1 / theta^(2i/d) in float32, angle = float32(p * inv_freq))', () => {
    const d = 8;
    const theta = 500000;
    const rope = new RotaryEmbedding(d, theta);
    const positions = [7919, 30011, 65521]; // far positions are where float32 and float64 angles part
    const { cos, sin } = rope.tables([positions]);
    const f = Math.fround;
    let maxFloat64Gap = 0;
    for (const [i, p] of positions.entries()) {
      const c = cos.dataSync().subarray(i * d, (i + 1) * d);
      const s = sin.dataSync().subarray(i * d, (i + 1) * d);
      for (let k = 0; k < d / 2; k++) {
        const invFreq = f(1 / f(Math.pow(theta, f((2 * k) / d))));
        const angle = f(p * invFreq);
        for (const j of [k, k + d / 2]) {
          expect(Math.abs(c[j]! - Math.cos(angle))).toBeLessThan(1e-6);
          expect(Math.abs(s[j]! - Math.sin(angle))).toBeLessThan(1e-6);
        }
        maxFloat64Gap = Math.max(maxFloat64Gap, Math.abs(Math.cos(angle) - Math.cos(p * Math.pow(theta, (-2 * k) / d))));
      }
    }
    // the float32 convention is observable here, so this test would catch a float64 rewrite
    expect(maxFloat64Gap).toBeGreaterThan(1e-5);
  });
});
