/** Linear warm-up to `lr`, then cosine decay to `lr * minRatio` at `total` steps. */
export function warmupCosine(step: number, options: { lr: number; warmup: number; total: number; minRatio?: number }): number {
  const { lr, warmup, total } = options;
  const minRatio = options.minRatio ?? 0.1;
  if (warmup > 0 && step < warmup) return (lr * (step + 1)) / warmup;
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return lr * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
