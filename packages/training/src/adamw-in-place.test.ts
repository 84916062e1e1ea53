import { describe, it, expect, beforeAll, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@mllm/core';
import { AdamW } from './adamw';
import { clipScale, globalGradNorm } from './clip-grads';

/** A two-layer MLP's parameters (matrices decay, vectors do not), from fixed seeds. */
function tinyModel(): [string, tf.Variable][] {
  return [
    ['w1', tf.variable(tf.randomNormal([6, 8], 0, 0.5, 'float32', 1))],
    ['b1', tf.variable(tf.randomNormal([8], 0, 0.1, 'float32', 2))],
    ['w2', tf.variable(tf.randomNormal([8, 3], 0, 0.5, 'float32', 3))],
    ['b2', tf.variable(tf.randomNormal([3], 0, 0.1, 'float32', 4))],
  ];
}

/** Trains the tiny model `steps` steps (clipped, warming learning rate); returns weights, moments, norms and how many values the optimizer copied out of the heap. */
function train(inPlace: boolean, steps: number) {
  const params = tinyModel();
  const byName = new Map(params);
  const opt = new AdamW(params, { weightDecay: 0.1, update: 'host', inPlace });
  const x = tf.randomNormal([5, 6], 0, 1, 'float32', 9);
  const y = tf.randomNormal([5, 3], 0, 1, 'float32', 10);
  const norms: number[] = [];
  const reads = vi.spyOn(tf.Tensor.prototype, 'dataSync');
  let copiedReads = 0;
  for (let step = 1; step <= steps; step++) {
    const { grads } = tf.variableGrads(() => {
      const h = tf.relu(x.matMul(byName.get('w1')!).add(byName.get('b1')!));
      return tf.losses.meanSquaredError(y, h.matMul(byName.get('w2')!).add(byName.get('b2')!)) as tf.Scalar;
    }, params.map(([, p]) => p));
    const named = new Map(params.map(([name, p]) => [name, grads[p.name]!]));
    const norm = globalGradNorm(named.values());
    norms.push(norm);
    reads.mockClear();
    opt.apply(named, 1e-2 * step, clipScale(norm, 0.5));
    copiedReads += reads.mock.calls.length;
    tf.dispose(Object.values(grads));
  }
  reads.mockRestore();
  const weights = params.map(([, p]) => Array.from(p.dataSync()));
  const moments = Object.values(opt.stateDict()).map((t) => Array.from(t.dataSync()));
  opt.dispose();
  tf.dispose([x, y, ...params.map(([, p]) => p)]);
  return { weights, moments, norms, copiedReads };
}

describe('AdamW in place on the wasm backend', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('gives bit-identical weights, moments and norms to the copying update over several steps', () => {
    expect(tf.getBackend()).toBe('wasm');
    const copying = train(false, 6);
    const inPlace = train(true, 6);
    // clipping is active in some steps, so the gradient scale path is exercised
    expect(copying.norms.some((n) => clipScale(n, 0.5) < 1)).toBe(true);
    expect(inPlace.norms).toEqual(copying.norms);
    expect(inPlace.weights).toEqual(copying.weights);
    expect(inPlace.moments).toEqual(copying.moments);
    // the paths really differ: in place reads no tensor out of the heap
    expect(inPlace.copiedReads).toBe(0);
    expect(copying.copiedReads).toBe(6 * 4 * 2);
  });

  it('never writes into a tensor that shares memory with the variable, and the next forward sees the new weights', () => {
    const init = tf.tensor2d([[1, -2], [3, 0.5]]);
    const w = tf.variable(init); // shares init's memory until the first update
    const opt = new AdamW([['w', w]], { weightDecay: 0.1 });
    for (let i = 0; i < 3; i++) opt.apply(new Map([['w', tf.tensor2d([[0.5, 0.5], [-1, 2]])]]), 0.01);
    expect(Array.from(init.dataSync())).toEqual([1, -2, 3, 0.5]);
    expect(Array.from(w.dataSync())).not.toEqual([1, -2, 3, 0.5]);
    // a product with the weights after each update (tfjs-wasm's matMul caches packed weights by tensor)
    const x = tf.tensor2d([[1, 0], [0, 1]]);
    for (let i = 0; i < 2; i++) {
      opt.apply(new Map([['w', tf.tensor2d([[0.5, 0.5], [-1, 2]])]]), 0.01);
      expect(Array.from(x.matMul(w).dataSync())).toEqual(Array.from(w.dataSync()));
    }
    tf.dispose([init, w, x]);
  });

  it('leaves no tensor or heap memory behind', () => {
    const w = tf.variable(tf.randomNormal([16, 16], 0, 1, 'float32', 5));
    const g = tf.randomNormal([16, 16], 0, 1, 'float32', 6);
    const opt = new AdamW([['w', w]], { weightDecay: 0.1 });
    opt.apply(new Map([['w', g]]), 0.01);
    const before = tf.memory();
    for (let i = 0; i < 3; i++) opt.apply(new Map([['w', g]]), 0.01);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    tf.dispose([w, g]);
  });

  it('reads the global norm in place as the float64 sum of squares of all gradients', () => {
    const a = tf.tensor1d([3, 4]);
    const b = tf.tensor2d([[12]]);
    expect(globalGradNorm([a, b])).toBe(13);
    expect(() => globalGradNorm([tf.tensor1d([Number.NaN])])).toThrow(/training diverged/);
  });
});
