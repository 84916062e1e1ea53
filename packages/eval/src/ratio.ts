/** a / b, or 0 when b is 0: an empty or degenerate set scores 0, never NaN. */
export function safeRatio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}
