import { MllmError } from '@mllm/core';

/** Parses a positive integer flag or says how to write it. */
export function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new MllmError(`${flag} must be an integer >= 1, got ${value}`);
  return n;
}
