import { BACKENDS, MllmError } from '@mllm/core';

/** Parses a positive integer flag or says how to write it. */
export function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new MllmError(`${flag} must be an integer >= 1, got ${value}`);
  return n;
}

/** Parses an integer flag (any sign) or says how to write it. */
export function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) throw new MllmError(`${flag} must be an integer, got ${value}`);
  return n;
}

/** Collects a repeatable flag's values in order (`--stop a --stop b`). */
export function repeatable(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Checks `--backend` (or MLLM_BACKEND) up front: `run` and `sweep` create their folders before
 * they start the backend, and a misspelt name must not leave an empty run folder behind.
 */
export function backendName(value: string | undefined): string | undefined {
  const name = value ?? process.env.MLLM_BACKEND;
  if (name !== undefined && !(BACKENDS as readonly string[]).includes(name))
    throw new MllmError(`${value === undefined ? 'MLLM_BACKEND' : '--backend'} must be one of ${BACKENDS.join(', ')}, got ${name}`);
  return value;
}
