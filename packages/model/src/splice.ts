import * as tf from '@tensorflow/tfjs';

/** Where each image's M tokens go: row b, positions start..start+M-1. */
export interface ImageSlot {
  row: number;
  start: number;
}

/**
 * Places image tokens into the text sequence: out = P @ tokens with P a 0/1 placement
 * matrix [B*T, N_img*M]. A matMul keeps it on the fast kernel; the gradient P^T dy
 * is written by hand because tfjs's scatter/gather gradients are missing on wasm.
 */
export function placeImageTokens(imageTokens: tf.Tensor3D, slots: ImageSlot[], batch: number, length: number): tf.Tensor3D {
  const [n, m, d] = imageTokens.shape;
  if (n !== slots.length) throw new Error(`placeImageTokens: ${n} images but ${slots.length} <image> slots`);
  const placement = new Float32Array(batch * length * n * m);
  slots.forEach(({ row, start }, img) => {
    for (let j = 0; j < m; j++) placement[(row * length + start + j) * n * m + img * m + j] = 1;
  });
  const p = tf.tensor2d(placement, [batch * length, n * m]);
  const place = tf.customGrad(((tokens: tf.Tensor, save: tf.GradSaveFunc) => {
    save([p]);
    return {
      value: tf.matMul(p, tokens as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => tf.matMul(tf.transpose(saved as tf.Tensor2D), dy as tf.Tensor2D),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (t: tf.Tensor) => tf.Tensor2D;
  const out = place(imageTokens.reshape([n * m, d])).reshape([batch, length, d]) as tf.Tensor3D;
  p.dispose();
  return out;
}
