import * as tf from '@tensorflow/tfjs';

export type AttentionPattern = 'causal' | 'prefix' | 'bidirectional';

/** Large negative instead of -Infinity so fully masked rows (padding queries) stay finite. */
export const MASKED = -1e9;

export interface MaskOptions {
  pattern: AttentionPattern;
  /** [B, S] with 1 for real keys, 0 for padding. Omitted: every key is real. */
  keyMask?: number[][];
  /** Per batch row, how many leading positions attend bidirectionally (pattern `prefix`). */
  prefixLengths?: number[];
  /** Query length T; queries are the last T of the S key positions (KV-cache decoding). */
  queryLength?: number;
}

/**
 * Additive attention mask [B, 1, T, S]: 0 where query t may attend key s, MASKED elsewhere.
 * Built on the host, once per batch, and shared by every layer.
 */
export function buildAttentionMask(batch: number, keyLength: number, options: MaskOptions): tf.Tensor4D {
  const t = options.queryLength ?? keyLength;
  const offset = keyLength - t;
  const data = new Float32Array(batch * t * keyLength);
  for (let b = 0; b < batch; b++) {
    const prefix = options.pattern === 'prefix' ? (options.prefixLengths?.[b] ?? 0) : 0;
    const keys = options.keyMask?.[b];
    for (let q = 0; q < t; q++) {
      const qPos = q + offset;
      for (let s = 0; s < keyLength; s++) {
        const visible =
          options.pattern === 'bidirectional' || s <= qPos || (options.pattern === 'prefix' && s < prefix && qPos < prefix);
        const real = keys ? keys[s] !== 0 : true;
        data[(b * t + q) * keyLength + s] = visible && real ? 0 : MASKED;
      }
    }
  }
  return tf.tensor4d(data, [batch, 1, t, keyLength]);
}
