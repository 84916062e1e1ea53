import * as tf from '@tensorflow/tfjs';
import type { ImageAttentionBoost } from '@mllm/core';

/**
 * PAI's boost mask [B, 1, T, S]: 1 where a boosted query meets an image key, 0 elsewhere. PAI
 * (Liu et al. 2024) changes only the attention of the token being generated: at the prompt's
 * prefill its last position, at each cached step the one new token, i.e. every query from the
 * prompt's last position on (`queriesFrom`; absent: this call's last query). The keys S are the
 * cached ones and this call's T. Built on the host once per forward, shared by the boosted layers.
 */
export function imageBoostMask(batch: number, queryLength: number, keyLength: number, boost: ImageAttentionBoost): tf.Tensor4D {
  if (boost.imageKeys.length !== batch) throw new Error(`imageAttention: ${boost.imageKeys.length} rows of image keys for a batch of ${batch}`);
  const data = new Float32Array(batch * queryLength * keyLength);
  const past = keyLength - queryLength;
  const firstQuery = Math.max(0, (boost.queriesFrom ?? keyLength - 1) - past); // index within this call's queries
  boost.imageKeys.forEach((keys, row) => {
    for (const k of keys) {
      if (!Number.isInteger(k) || k < 0 || k >= keyLength) throw new Error(`imageAttention: image key position ${k} of row ${row} is outside the ${keyLength} keys`);
      for (let q = firstQuery; q < queryLength; q++) data[(row * queryLength + q) * keyLength + k] = 1;
    }
  });
  return tf.tensor4d(data, [batch, 1, queryLength, keyLength]);
}
