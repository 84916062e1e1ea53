import { describe, it, expect, afterEach } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { installFastKernels, setFastKernels } from './batch-matmul';

const onWasm = tf.getBackend() === 'wasm';
const dataIds = () => (tf.engine().backend as unknown as { numDataIds(): number }).numDataIds();

afterEach(() => setFastKernels(true));

describe('zero-copy Identity (wasm)', () => {
  it.runIf(onWasm)('clones share the data until the last of them is disposed', () => {
    installFastKernels();
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const before = dataIds();
    const y = x.clone();
    expect(dataIds()).toBe(before); // no new buffer
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    y.dispose();
    expect(dataIds()).toBe(before - 1);
  });

  it.runIf(onWasm)('a variable assigned after a clone leaves the clone as it was', () => {
    installFastKernels();
    const v = tf.variable(tf.tensor([1, 2, 3]));
    const saved = v.clone();
    v.assign(tf.tensor([7, 8, 9]));
    expect(Array.from(saved.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    saved.dispose();
    v.dispose();
  });

  it.runIf(onWasm)('gradients that save their inputs stay right (square, saved x)', () => {
    installFastKernels();
    const x = tf.tensor([1, -2, 3]);
    const g = tf.grad((t: tf.Tensor) => t.square().sum())(x);
    expect(Array.from(g.dataSync())).toEqual([2, -4, 6]);
  });
});

describe('row GatherV2 (wasm)', () => {
  const stock = <T>(f: () => T): T => {
    setFastKernels(false);
    try {
      return f();
    } finally {
      setFastKernels(true);
    }
  };

  it.runIf(onWasm)('equals tfjs\'s gather for 2-D and 3-D tables, 1-D and 2-D indices', () => {
    installFastKernels();
    const table2 = tf.randomNormal([7, 5], 0, 1, 'float32', 1);
    const table3 = tf.randomNormal([6, 3, 4], 0, 1, 'float32', 2);
    for (const [table, ids] of [
      [table2, tf.tensor1d([0, 6, 3, 3], 'int32')],
      [table2, tf.tensor2d([[1, 2, 0], [6, 6, 5]], [2, 3], 'int32')],
      [table3, tf.tensor1d([5, 0], 'int32')],
      [table2, tf.tensor1d([], 'int32')],
    ] as [tf.Tensor, tf.Tensor][]) {
      const ours = tf.gather(table, ids);
      const ref = stock(() => tf.gather(table, ids));
      expect(ours.shape).toEqual(ref.shape);
      expect(Array.from(ours.dataSync())).toEqual(Array.from(ref.dataSync()));
    }
  });

  it.runIf(onWasm)('refuses an index outside the table, saying which, and leaks nothing', () => {
    installFastKernels();
    const table = tf.zeros([4, 2]);
    const ids = tf.tensor1d([1, 4], 'int32');
    const before = dataIds();
    expect(() => tf.gather(table, ids)).toThrow(/index 4 at position 1 is outside \[0, 3\]/);
    expect(dataIds()).toBe(before);
  });

  it.runIf(onWasm)('other axes still go to tfjs\'s kernel', () => {
    installFastKernels();
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    expect(Array.from(tf.gather(x, tf.tensor1d([2, 0], 'int32'), 1).dataSync())).toEqual([3, 1, 6, 4]);
  });
});
