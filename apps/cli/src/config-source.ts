import { MllmError } from '@mllm/core';
import { readConfig, type MllmRegistry } from '@mllm/run';

/**
 * A run config file, ready for `run` and `sweep`. Placeholder for @mllm/run's `loadConfig`
 * (which resolves `extends` and `--set path=value`): until that replaces it, a config is read
 * as is and `--set` is refused rather than ignored.
 */
export async function loadConfig(path: string, options: { set?: readonly string[] } = {}): Promise<unknown> {
  if (options.set && options.set.length > 0)
    throw new MllmError(`--set is not available yet (got ${options.set.map((s) => JSON.stringify(s)).join(', ')}); edit a copy of ${path} instead`);
  return readConfig(path);
}

/**
 * The JSON Schema of run configs for `registry`. Placeholder for @mllm/run's
 * `runConfigJsonSchema`, which replaces it; until then `mllm schema` says so.
 */
export function runConfigJsonSchema(_registry: MllmRegistry): object {
  throw new MllmError('mllm schema is not available yet: the JSON Schema of run configs is not generated in this version');
}
