import * as tf from '@tensorflow/tfjs';
import { Module } from '../module';
import { Linear } from './linear';
import { LayerNorm } from './norms';
import type { Rng } from '../rng';

/** Exact GELU, 0.5 x (1 + erf(x / sqrt 2)) (HF `gelu`). */
export function geluErf<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5) as T);
}

/** Two-layer feed-forward with GELU (CLIP/ViT: `fc1`, `fc2`). */
export class GeluMLP extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(dim: number, hidden: number, rng: Rng) {
    super();
    this.fc1 = this.add('fc1', new Linear(dim, hidden, rng));
    this.fc2 = this.add('fc2', new Linear(hidden, dim, rng));
  }

  forward<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => this.fc2.forward(geluErf(this.fc1.forward(x))));
  }
}

/** SwiGLU feed-forward (LLaMA): down(silu(gate(x)) * up(x)), no biases. */
export class SwiGLU extends Module {
  readonly gate: Linear;
  readonly up: Linear;
  readonly down: Linear;

  constructor(dim: number, hidden: number, rng: Rng) {
    super();
    this.gate = this.add('gate_proj', new Linear(dim, hidden, rng, { bias: false }));
    this.up = this.add('up_proj', new Linear(dim, hidden, rng, { bias: false }));
    this.down = this.add('down_proj', new Linear(hidden, dim, rng, { bias: false }));
  }

  forward<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const g = this.gate.forward(x);
      return this.down.forward(g.mul(tf.sigmoid(g)).mul(this.up.forward(x)));
    });
  }
}

/**
 * Pre-norm GELU feed-forward as open_flamingo's nn.Sequential(LayerNorm, Linear, GELU, Linear),
 * the one its Perceiver resampler and gated cross-attention blocks share: children are named by
 * Sequential index (`0`, `1`, `3`; GELU at 2 has no weights) so checkpoint names match.
 */
export class PreNormFeedForward extends Module {
  readonly norm: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(dim: number, hidden: number, rng: Rng) {
    super();
    this.norm = this.add('0', new LayerNorm(dim));
    this.fc1 = this.add('1', new Linear(dim, hidden, rng, { bias: false }));
    this.fc2 = this.add('3', new Linear(hidden, dim, rng, { bias: false }));
  }

  /** [B, T, D] -> [B, T, D] (no residual). */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => this.fc2.forward(geluErf(this.fc1.forward(this.norm.forward(x)))));
  }
}
