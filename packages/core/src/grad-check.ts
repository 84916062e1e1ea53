import * as tf from '@tensorflow/tfjs';

export interface GradCheckResult {
  maxAbsError: number;
  maxRelError: number;
  checked: number;
}

export interface GradCheckOptions {
  eps?: number;
  /** Coordinates checked per tensor, evenly spaced. */
  samples?: number;
}

/**
 * Central differences at `samples` coordinates of each tensor against the analytic
 * gradients. `evalWith(i, values)` evaluates the function with tensor i set to `values`.
 * float32 forces eps ~1e-2 and tolerances ~1e-2; callers assert on the result.
 */
function compare(
  bases: Float32Array[],
  analytic: Float32Array[],
  evalWith: (i: number, values: Float32Array) => number,
  options: GradCheckOptions,
): GradCheckResult {
  const eps = options.eps ?? 1e-2;
  const samples = options.samples ?? 12;
  const result: GradCheckResult = { maxAbsError: 0, maxRelError: 0, checked: 0 };
  bases.forEach((base, i) => {
    const step = Math.max(1, Math.floor(base.length / samples));
    for (let j = 0; j < base.length; j += step) {
      const at = (delta: number) => {
        const moved = base.slice();
        moved[j] = moved[j]! + delta;
        return evalWith(i, moved);
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      const got = analytic[i]![j]!;
      const abs = Math.abs(numeric - got);
      result.maxAbsError = Math.max(result.maxAbsError, abs);
      result.maxRelError = Math.max(result.maxRelError, abs / Math.max(1e-3, Math.abs(numeric) + Math.abs(got)));
      result.checked++;
    }
  });
  return result;
}

/** Finite-difference check of d f / d inputs for a scalar function of tensors. */
export function checkGradients(f: (...xs: tf.Tensor[]) => tf.Scalar, inputs: tf.Tensor[], options: GradCheckOptions = {}): GradCheckResult {
  const analytic = tf.tidy(() => tf.grads(f)(inputs).map((g) => g.dataSync().slice() as Float32Array));
  const bases = inputs.map((x) => x.dataSync().slice() as Float32Array);
  return compare(bases, analytic, (i, values) =>
    tf.tidy(() => f(...inputs.map((t, k) => (k === i ? tf.tensor(values, t.shape) : t))).dataSync()[0]!), options);
}

/**
 * Finite-difference check of a module's parameter gradients: perturbs each variable
 * in place (restoring it after) and compares against tf.variableGrads.
 */
export function checkParameterGradients(f: () => tf.Scalar, variables: tf.Variable[], options: GradCheckOptions = {}): GradCheckResult {
  const analytic = tf.tidy(() => {
    const { grads } = tf.variableGrads(f, variables);
    return variables.map((v) => grads[v.name]!.dataSync().slice() as Float32Array);
  });
  const bases = variables.map((v) => v.dataSync().slice() as Float32Array);
  const set = (i: number, values: Float32Array) => tf.tidy(() => variables[i]!.assign(tf.tensor(values, variables[i]!.shape)));
  return compare(bases, analytic, (i, values) => {
    set(i, values);
    const value = tf.tidy(() => f().dataSync()[0]!);
    set(i, bases[i]!); // every other variable stays at the point the analytic gradient was taken
    return value;
  }, options);
}

/**
 * Finite-difference error of each tensor's gradient, relative to that tensor's largest
 * gradient entry. The per-coordinate relative error of core's helper is bound by float32
 * noise (~1e-4 here) wherever one entry of the gradient happens to be near zero; a wrong
 * gradient is off by an amount of the order of the gradient itself, which this still shows.
 * Returns the tensors whose error is over `tolerance`, by name, so a failure says where.
 */
export function gradientMismatches(
  f: (...inputs: tf.Tensor[]) => tf.Scalar,
  params: [string, tf.Variable][],
  inputs: [string, tf.Tensor][],
  options: GradCheckOptions & { tolerance?: number } = {},
): { name: string; error: number }[] {
  const tolerance = options.tolerance ?? 2e-2;
  const values = inputs.map(([, t]) => t);
  const scale = (g: tf.Tensor) => Math.max(tf.max(tf.abs(g)).dataSync()[0]!, 1e-6);
  const errors: { name: string; error: number }[] = [];
  for (const [name, v] of params) {
    const r = checkParameterGradients(() => f(...values), [v], options);
    const g = tf.tidy(() => scale(tf.variableGrads(() => f(...values), [v]).grads[v.name]!));
    errors.push({ name, error: r.maxAbsError / g });
  }
  inputs.forEach(([name], i) => {
    const only = (x: tf.Tensor) => f(...values.map((t, k) => (k === i ? x : t)));
    const r = checkGradients(only, [values[i]!], options);
    const g = tf.tidy(() => scale(tf.grad(only)(values[i]!)));
    errors.push({ name, error: r.maxAbsError / g });
  });
  return errors.filter((e) => !(e.error < tolerance));
}
