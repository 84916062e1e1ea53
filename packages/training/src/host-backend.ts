import * as tf from '@tensorflow/tfjs';

/** Whether the current backend's tensors live in this process's memory (reading one costs a copy, not a device transfer). */
export function hostBackend(): boolean {
  const name = tf.getBackend();
  return name === 'wasm' || name === 'cpu';
}
