import * as tf from '@tensorflow/tfjs';
import { geluErf } from '@mllm/core';

/** MLP activations of the vision towers we load (HF ACT2FN, by our own names). */
export const VIT_ACTIVATIONS = ['gelu', 'gelu-tanh', 'quick-gelu', 'relu', 'silu'] as const;
export type VitActivation = (typeof VIT_ACTIVATIONS)[number];

/** HF `hidden_act` -> our name. gelu_new, gelu_fast and gelu_pytorch_tanh are one formula written three ways. */
export const HF_ACTIVATIONS: Readonly<Record<string, VitActivation>> = {
  gelu: 'gelu',
  gelu_pytorch_tanh: 'gelu-tanh',
  gelu_new: 'gelu-tanh',
  gelu_fast: 'gelu-tanh',
  quick_gelu: 'quick-gelu',
  relu: 'relu',
  silu: 'silu',
  swish: 'silu',
};

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): torch's gelu(approximate='tanh'), SigLIP's activation. */
export function geluTanh<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => x.mul(tf.tanh(x.add(x.mul(x).mul(x).mul(0.044715)).mul(SQRT_2_OVER_PI)).add(1)).mul(0.5) as T);
}

/** x sigmoid(1.702 x): OpenAI CLIP's activation (HF QuickGELUActivation). */
export function quickGelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => x.mul(tf.sigmoid(x.mul(1.702))) as T);
}

export function applyActivation<T extends tf.Tensor>(name: VitActivation, x: T): T {
  switch (name) {
    case 'gelu':
      return geluErf(x);
    case 'gelu-tanh':
      return geluTanh(x);
    case 'quick-gelu':
      return quickGelu(x);
    case 'relu':
      return tf.relu(x);
    case 'silu':
      return tf.tidy(() => x.mul(tf.sigmoid(x)) as T);
  }
}
