/** Mean and spread (sample standard deviation; 0 for one seed) of one metric over seeds. */
export interface Spread {
  mean: number;
  std: number;
}

export function spread(values: number[]): Spread {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = values.length > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, std };
}
