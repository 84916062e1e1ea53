import * as tf from '@tensorflow/tfjs';
import { checkGradients, checkParameterGradients, type GradCheckOptions } from '@mllm/core';

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
