/**
 * Position ids of a left-padded batch, as RoPE reads them: the tfjs backbones and the ONNX
 * runtime compute them alike from the attention mask. Pure (no tfjs): part of `@mllm/llm/decoding`.
 */

/** Positions count only real tokens, so left-padded rows start at 0 (HF: cumsum(mask) - 1). */
export function positionsFromMask(keyMask: number[][], queryLength: number): number[][] {
  return keyMask.map((row) => {
    let p = -1;
    const positions = row.map((m) => (m ? ++p : Math.max(p, 0)));
    return positions.slice(row.length - queryLength);
  });
}
