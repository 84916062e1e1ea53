/**
 * "Nice" axis ticks: steps of 1, 2 or 5 times a power of ten covering a data range
 * (Heckbert, "Nice numbers for graph labels", Graphics Gems 1990).
 */

export interface Ticks {
  /** Axis start: the largest tick step multiple <= the data minimum. */
  min: number;
  /** Axis end: the smallest tick step multiple >= the data maximum. */
  max: number;
  step: number;
  /** min, min + step, ..., max. */
  values: number[];
  /** Decimal places that print every tick exactly. */
  decimals: number;
}

/** The nice number near `x`: rounded (nearest of 1, 2, 5, 10) or not less than x. */
function niceNumber(x: number, round: boolean): number {
  const exponent = Math.floor(Math.log10(x));
  const fraction = x / 10 ** exponent;
  let nice: number;
  if (round) nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  else nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * 10 ** exponent;
}

/**
 * About `count` nice ticks spanning [lo, hi]. A non-finite range gives [0, 1]; a zero-width
 * range is widened around its value so a single point still gets an axis.
 *
 *   niceTicks(0, 10).values   // [0, 2, 4, 6, 8, 10]
 *   niceTicks(0.13, 0.92)     // min 0, max 1, step 0.2
 */
export function niceTicks(lo: number, hi: number, count = 5): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const range = niceNumber(hi - lo, false);
  const step = niceNumber(range / Math.max(1, count - 1), true);
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const fix = (v: number): number => Number(v.toFixed(decimals));
  const min = fix(Math.floor(lo / step) * step);
  const max = fix(Math.ceil(hi / step) * step);
  const values: number[] = [];
  for (let i = 0; min + i * step <= max + step / 2; i++) values.push(fix(min + i * step));
  return { min, max, step, values, decimals };
}

/** A tick value printed with the tick set's decimals ("0.20", no float noise). */
export function formatTick(value: number, ticks: Pick<Ticks, 'decimals'>): string {
  return value.toFixed(ticks.decimals);
}
