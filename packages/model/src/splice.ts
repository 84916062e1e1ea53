import * as tf from '@tensorflow/tfjs';

/** Where each image's M tokens go: row b, positions start..start+M-1. */
export interface ImageSlot {
  row: number;
  start: number;
}

/**
 * Places image tokens into the text sequence: out = P @ tokens with P a 0/1 placement
 * matrix [B*T, sum M_i]. A matMul keeps it on the fast kernel; the gradient P^T dy
 * is written by hand because tfjs's scatter/gather gradients are missing on wasm.
 *
 * `imageTokens` is [N_img, M, D] when every image has M tokens, or the images' tokens one
 * after another [sum M_i, D] with `lengths` M_i per slot (images of different canvas shapes).
 * Slot i takes the i-th run of tokens, so the runs may come in any order the slots list.
 */
export function placeImageTokens(imageTokens: tf.Tensor3D | tf.Tensor2D, slots: ImageSlot[], batch: number, length: number, lengths?: number[]): tf.Tensor3D {
  const d = imageTokens.shape[imageTokens.rank - 1]!;
  const runs = imageTokens.rank === 3 ? new Array<number>(imageTokens.shape[0]).fill(imageTokens.shape[1]!) : lengths;
  if (!runs) throw new Error('placeImageTokens: tokens [sum M_i, D] need the per-image lengths M_i');
  if (runs.length !== slots.length) throw new Error(`placeImageTokens: ${runs.length} images but ${slots.length} <image> slots`);
  const total = runs.reduce((a, m) => a + m, 0);
  const rows = imageTokens.rank === 3 ? imageTokens.shape[0] * imageTokens.shape[1]! : imageTokens.shape[0];
  if (rows !== total) throw new Error(`placeImageTokens: ${rows} image tokens but the lengths add up to ${total}`);
  const placement = new Float32Array(batch * length * total);
  let offset = 0;
  slots.forEach(({ row, start }, img) => {
    const m = runs[img]!;
    if (start + m > length) throw new Error(`placeImageTokens: image ${img}'s ${m} tokens at ${start} run past the sequence length ${length}`);
    for (let j = 0; j < m; j++) placement[(row * length + start + j) * total + offset + j] = 1;
    offset += m;
  });
  const p = tf.tensor2d(placement, [batch * length, total]);
  const place = tf.customGrad(((tokens: tf.Tensor, save: tf.GradSaveFunc) => {
    save([p]);
    return {
      value: tf.matMul(p, tokens as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => tf.matMul(tf.transpose(saved as tf.Tensor2D), dy as tf.Tensor2D),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (t: tf.Tensor) => tf.Tensor2D;
  const out = place(imageTokens.reshape([total, d])).reshape([batch, length, d]) as tf.Tensor3D;
  p.dispose();
  return out;
}
