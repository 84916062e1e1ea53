import { MllmError } from '@mllm/core';

/**
 * How an encoder-decoder reads a [B, T] sequence (prompt, then response): row b's encoder takes
 * positions [0, p_b) (its prefix), its decoder positions [p_b - 1, T), so the decoder's first
 * query, the prompt's last token, predicts the first response token, as the causal LM's does.
 * Every decoder row is left-aligned to one offset: decoder index j is sequence position
 * `decoderOffset + j` in every row, and positions a row's decoder does not own are masked.
 */
export interface PrefixSplit {
  /** Per row, the clamped prefix length p_b. */
  prefixLengths: number[];
  /** max p_b: the encoder's length. */
  encoderLength: number;
  /** [B][encoderLength] 1 on the row's real prefix tokens. */
  encoderMask: number[][];
  /** min (p_b - 1): the sequence position of decoder index 0. */
  decoderOffset: number;
  /** [B][T - decoderOffset] 1 on the row's real tokens from p_b - 1 on. */
  decoderMask: number[][];
}

/**
 * Splits each row at its prefix length. A prefix is at least the row's first real token (so the
 * encoder never sees only padding) and at most the row; absent `prefixLengths` means that minimal
 * prefix (the decoder then reads the whole text, as a causal LM would).
 */
export function splitAtPrefix(keyMask: number[][], prefixLengths?: number[]): PrefixSplit {
  const t = keyMask[0]?.length ?? 0;
  if (prefixLengths && prefixLengths.length !== keyMask.length)
    throw new MllmError(`prefixLengths has ${prefixLengths.length} rows but the batch has ${keyMask.length}; give one prefix length per row`);
  const clamped = keyMask.map((row, b) => {
    const firstReal = Math.max(0, row.indexOf(1));
    const p = prefixLengths?.[b] ?? 0;
    if (!Number.isInteger(p) || p < 0) throw new MllmError(`prefixLengths[${b}] is ${p}; a prefix length is a whole number of tokens >= 0`);
    return Math.min(t, Math.max(p, firstReal + 1));
  });
  const encoderLength = Math.max(1, ...clamped);
  const decoderOffset = Math.min(...clamped) - 1;
  return {
    prefixLengths: clamped,
    encoderLength,
    encoderMask: keyMask.map((row, b) => Array.from({ length: encoderLength }, (_, s) => (row[s] && s < clamped[b]! ? 1 : 0))),
    decoderOffset,
    decoderMask: keyMask.map((row, b) => Array.from({ length: t - decoderOffset }, (_, j) => (row[decoderOffset + j] && decoderOffset + j >= clamped[b]! - 1 ? 1 : 0))),
  };
}
