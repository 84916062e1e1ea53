import * as tf from '@tensorflow/tfjs';

export interface GradCheckResult {
  maxAbsError: number;
  maxRelError: number;
  checked: number;
}

/**
 * Compares autograd gradients of a scalar function against central finite
 * differences at `samples` coordinates of each input. float32 forces eps ~1e-2
 * and tolerances ~1e-2; callers assert on the result.
 */
export function checkGradients(
  f: (...xs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
  options: { eps?: number; samples?: number } = {},
): GradCheckResult {
  const eps = options.eps ?? 1e-2;
  const samples = options.samples ?? 12;
  const analytic = tf.tidy(() => tf.grads(f)(inputs).map((g) => g.dataSync().slice()));
  let maxAbsError = 0;
  let maxRelError = 0;
  let checked = 0;
  inputs.forEach((x, i) => {
    const base = x.dataSync().slice() as Float32Array;
    const step = Math.max(1, Math.floor(base.length / samples));
    for (let j = 0; j < base.length; j += step) {
      const evalAt = (delta: number) =>
        tf.tidy(() => {
          const moved = base.slice();
          moved[j] = moved[j]! + delta;
          const args = inputs.map((t, k) => (k === i ? tf.tensor(moved, x.shape) : t));
          return f(...args).dataSync()[0]!;
        });
      const numeric = (evalAt(eps) - evalAt(-eps)) / (2 * eps);
      const got = analytic[i]![j]!;
      const abs = Math.abs(numeric - got);
      maxAbsError = Math.max(maxAbsError, abs);
      maxRelError = Math.max(maxRelError, abs / Math.max(1e-3, Math.abs(numeric) + Math.abs(got)));
      checked++;
    }
  });
  return { maxAbsError, maxRelError, checked };
}

/**
 * Finite-difference check of a module's parameter gradients: perturbs each variable
 * in place (restoring it after) and compares against tf.variableGrads.
 */
export function checkParameterGradients(
  f: () => tf.Scalar,
  variables: tf.Variable[],
  options: { eps?: number; samples?: number } = {},
): GradCheckResult {
  const eps = options.eps ?? 1e-2;
  const samples = options.samples ?? 12;
  const analytic = tf.tidy(() => {
    const { grads } = tf.variableGrads(f, variables);
    return variables.map((v) => grads[v.name]!.dataSync().slice());
  });
  let maxAbsError = 0;
  let maxRelError = 0;
  let checked = 0;
  variables.forEach((v, i) => {
    const base = v.dataSync().slice() as Float32Array;
    const step = Math.max(1, Math.floor(base.length / samples));
    for (let j = 0; j < base.length; j += step) {
      const evalAt = (delta: number) => {
        const moved = base.slice();
        moved[j] = moved[j]! + delta;
        tf.tidy(() => v.assign(tf.tensor(moved, v.shape)));
        return tf.tidy(() => f().dataSync()[0]!);
      };
      const numeric = (evalAt(eps) - evalAt(-eps)) / (2 * eps);
      tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
      const abs = Math.abs(numeric - analytic[i]![j]!);
      maxAbsError = Math.max(maxAbsError, abs);
      maxRelError = Math.max(maxRelError, abs / Math.max(1e-3, Math.abs(numeric) + Math.abs(analytic[i]![j]!)));
      checked++;
    }
  });
  return { maxAbsError, maxRelError, checked };
}
