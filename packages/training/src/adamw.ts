import * as tf from '@tensorflow/tfjs';
import { wasmHeapViews } from '@mllm/core/internal';
import { hostBackend } from './host-backend';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /**
   * Where the update runs: `host` (moments in JS arrays, one loop per parameter) or `tensors`
   * (tfjs ops, moments stay on the device). Default: `host` on the wasm and cpu backends, whose
   * tensors live in this process's memory anyway; `tensors` on native / GPU backends.
   */
  update?: 'host' | 'tensors';
  /**
   * On the wasm backend the `host` update reads gradients and weights in place in the backend's
   * memory and writes the new weights straight into a heap tensor (default), instead of copying
   * both out and the result back in. `false` keeps the copying path (same numbers; for parity checks).
   */
  inPlace?: boolean;
}

/** One AdamW step's constants, shared by the in-place and the copying update. */
interface StepConstants {
  beta1: number;
  beta2: number;
  eps: number;
  lr: number;
  bc1: number;
  bc2: number;
  gradScale: number;
  keep: number;
}

/**
 * The update of one parameter: reads `w`, `g`, `m`, `v`, writes moments in place and the new
 * weights to `out`, which may be `w` itself (each index is read before it is written).
 */
function updateValues(out: Float32Array, w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, c: StepConstants): void {
  const { beta1, beta2, eps, lr, bc1, bc2, gradScale, keep } = c;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]! * gradScale;
    const mi = (m[i] = beta1 * m[i]! + (1 - beta1) * gi);
    const vi = (v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi);
    out[i] = w[i]! * keep - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
  }
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
  readonly update: 'host' | 'tensors';
  readonly inPlace: boolean;
  // On the host the update is one loop per parameter: as tfjs ops it is ~12 kernel calls per
  // parameter (375 a default instruct step), each costing more than its arithmetic.
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  private readonly mTensor = new Map<string, tf.Variable>();
  private readonly vTensor = new Map<string, tf.Variable>();
  /** Tensor copies of the moments handed out by stateDict(), refreshed on each call. */
  private readonly exported = new Map<string, tf.Variable>();

  constructor(readonly params: [string, tf.Variable][], options: AdamWOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.update = options.update ?? (hostBackend() ? 'host' : 'tensors');
    this.inPlace = options.inPlace ?? true;
    for (const [name, p] of params) {
      if (this.update === 'host') {
        this.m.set(name, new Float32Array(p.size));
        this.v.set(name, new Float32Array(p.size));
      } else {
        this.mTensor.set(name, tf.variable(tf.zerosLike(p), false));
        this.vTensor.set(name, tf.variable(tf.zerosLike(p), false));
      }
    }
  }

  /**
   * Applies one update with learning rate `lr`; `grads` maps parameter name to gradient, each
   * multiplied by `gradScale` first (global-norm clipping without another pass over the tensors).
   */
  apply(grads: Map<string, tf.Tensor>, lr: number, gradScale = 1): void {
    this.step++;
    const { beta1, beta2, eps } = this;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    if (this.update === 'tensors') return this.applyTensors(grads, lr, gradScale, bc1, bc2);
    const heap = this.inPlace ? wasmHeapViews() : undefined;
    for (const [name, p] of this.params) {
      const grad = grads.get(name);
      if (!grad) continue;
      if (grad.size !== p.size) throw new Error(`gradient of ${name} has ${grad.size} values for a parameter of ${p.size}`);
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      const keep = this.weightDecay > 0 && p.rank >= 2 ? 1 - lr * this.weightDecay : 1;
      const constants: StepConstants = { beta1, beta2, eps, lr, bc1, bc2, gradScale, keep };
      if (heap && p.dtype === 'float32' && grad.dtype === 'float32') {
        // New weights go to a new heap tensor (an existing one may be cached by the matMul
        // kernel or shared by another tensor); the old weights' memory is freed on assign and
        // reused by the next parameter's, so the step copies nothing and grows nothing.
        const updated = heap.empty(p.shape);
        updateValues(heap.view(updated), heap.view(p), heap.view(grad), m, v, constants);
        p.assign(updated);
        updated.dispose();
        continue;
      }
      const w = p.dataSync() as Float32Array;
      const next = new Float32Array(w.length);
      updateValues(next, w, grad.dataSync() as Float32Array, m, v, constants);
      assignCopy(p, next);
    }
  }

  private applyTensors(grads: Map<string, tf.Tensor>, lr: number, gradScale: number, bc1: number, bc2: number): void {
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const grad = grads.get(name);
        if (!grad) continue;
        const g = gradScale === 1 ? grad : grad.mul(gradScale);
        const m = this.mTensor.get(name)!;
        const v = this.vTensor.get(name)!;
        m.assign(m.mul(this.beta1).add(g.mul(1 - this.beta1)));
        v.assign(v.mul(this.beta2).add(g.square().mul(1 - this.beta2)));
        const update = m.div(bc1).div(v.div(bc2).sqrt().add(this.eps));
        const decayed = this.weightDecay > 0 && p.rank >= 2 ? p.mul(1 - lr * this.weightDecay) : p;
        p.assign(decayed.sub(update.mul(lr)));
      }
    });
  }

  /** Moments as named tensors (`<param>.exp_avg`, `<param>.exp_avg_sq`) for checkpoints; the optimizer owns them. */
  stateDict(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    if (this.update === 'tensors') {
      for (const [name] of this.params) {
        out[`${name}.exp_avg`] = this.mTensor.get(name)!;
        out[`${name}.exp_avg_sq`] = this.vTensor.get(name)!;
      }
      return out;
    }
    const share = (key: string, values: Float32Array, shape: number[]) => {
      const t = tf.tensor(values, shape, 'float32');
      const held = this.exported.get(key);
      if (held) held.assign(t);
      else this.exported.set(key, tf.variable(t, false));
      t.dispose();
      out[key] = this.exported.get(key)!;
    };
    for (const [name, p] of this.params) {
      share(`${name}.exp_avg`, this.m.get(name)!, p.shape);
      share(`${name}.exp_avg_sq`, this.v.get(name)!, p.shape);
    }
    return out;
  }

  loadStateDict(state: Record<string, tf.Tensor>, step: number): void {
    for (const [name, p] of this.params) {
      const m = state[`${name}.exp_avg`];
      const v = state[`${name}.exp_avg_sq`];
      if (!m || !v) throw new Error(`optimizer state has no moments for ${name}; the checkpoint is from a different stage setup`);
      if (m.size !== p.size || v.size !== p.size) throw new Error(`optimizer moments for ${name} have ${m.size} values for a parameter of ${p.size}; the checkpoint is from a different model`);
      if (this.update === 'tensors') {
        this.mTensor.get(name)!.assign(m);
        this.vTensor.get(name)!.assign(v);
      } else {
        this.m.get(name)!.set(m.dataSync() as Float32Array);
        this.v.get(name)!.set(v.dataSync() as Float32Array);
      }
    }
    this.step = step;
  }

  dispose(): void {
    for (const t of [...this.exported.values(), ...this.mTensor.values(), ...this.vTensor.values()]) t.dispose();
    this.exported.clear();
  }
}

/** Replaces the variable's values with a new tensor holding `values`. */
function assignCopy(p: tf.Variable, values: Float32Array): void {
  const updated = tf.tensor(values, p.shape, 'float32');
  p.assign(updated);
  updated.dispose();
}
