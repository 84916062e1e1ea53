import type * as tf from '@tensorflow/tfjs';
import { Linear, Module, type Rng } from '@mllm/core';
import { applyActivation, type VitActivation } from './activations';

/** fc1 -> activation -> fc2, HF CLIPMLP / SiglipMLP names. Shapes: [..., D] -> [..., D]. */
export class VisionMLP extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(dim: number, hidden: number, readonly activation: VitActivation, rng: Rng) {
    super();
    this.fc1 = this.add('fc1', new Linear(dim, hidden, rng));
    this.fc2 = this.add('fc2', new Linear(hidden, dim, rng));
  }

  forward<T extends tf.Tensor>(x: T): T {
    return this.fc2.forward(applyActivation(this.activation, this.fc1.forward(x)));
  }
}
