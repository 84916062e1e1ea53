import * as tf from '@tensorflow/tfjs';
import type { Rng } from './rng';

/** Draws from our seeded Rng, not tfjs's, so initial weights are the same on every backend. */
export function normalInit(rng: Rng, shape: number[], std: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
  return tf.tensor(data, shape, 'float32');
}

/** Uniform(-bound, bound) with bound = 1/sqrt(fanIn): PyTorch's nn.Linear default. */
export function fanInUniform(rng: Rng, shape: number[], fanIn: number): tf.Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (rng.next() * 2 - 1) * bound;
  return tf.tensor(data, shape, 'float32');
}
