import * as tf from '@tensorflow/tfjs';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

/**
 * AdamW (Loshchilov & Hutter, arXiv:1711.05101): Adam moments with weight decay applied
 * to the weights directly, not through the gradient. Vectors (norms, biases) are not decayed.
 * Moments are named after their parameter so they checkpoint and resume by name.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(readonly params: [string, tf.Variable][], options: AdamWOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    for (const [name, p] of params) {
      this.m.set(name, tf.variable(tf.zerosLike(p), false));
      this.v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  /** Applies one update with learning rate `lr`; `grads` maps parameter name to gradient. */
  apply(grads: Map<string, tf.Tensor>, lr: number): void {
    this.step++;
    const bc1 = 1 - this.beta1 ** this.step;
    const bc2 = 1 - this.beta2 ** this.step;
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g = grads.get(name);
        if (!g) continue;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        m.assign(m.mul(this.beta1).add(g.mul(1 - this.beta1)));
        v.assign(v.mul(this.beta2).add(g.square().mul(1 - this.beta2)));
        const update = m.div(bc1).div(v.div(bc2).sqrt().add(this.eps));
        const decayed = this.weightDecay > 0 && p.rank >= 2 ? p.mul(1 - lr * this.weightDecay) : p;
        p.assign(decayed.sub(update.mul(lr)));
      }
    });
  }

  /** Moments as named tensors (`<param>.exp_avg`, `<param>.exp_avg_sq`) for checkpoints. */
  stateDict(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const [name] of this.params) {
      out[`${name}.exp_avg`] = this.m.get(name)!;
      out[`${name}.exp_avg_sq`] = this.v.get(name)!;
    }
    return out;
  }

  loadStateDict(state: Record<string, tf.Tensor>, step: number): void {
    for (const [name] of this.params) {
      const m = state[`${name}.exp_avg`];
      const v = state[`${name}.exp_avg_sq`];
      if (!m || !v) throw new Error(`optimizer state has no moments for ${name}; the checkpoint is from a different stage setup`);
      this.m.get(name)!.assign(m);
      this.v.get(name)!.assign(v);
    }
    this.step = step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
