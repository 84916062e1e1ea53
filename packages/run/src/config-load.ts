import { dirname, resolve } from 'node:path';
import { ConfigError, type ConfigIssue } from '@mllm/core';
import { parseRunConfig } from '@mllm/training';
import { ConfigFileError, displayPath, readJsonFile } from './config-file';
import { isObject, mergeValue, type JsonObject } from './config-merge';
import { applySets, issueFromSet, setIssue, type ConfigSet } from './config-set';
import { configPlugins, registryFor } from './plugins';

export interface LoadConfigOptions {
  /** `--set path=value` overrides, applied in order after every `extends` (see config-set.ts). */
  set?: readonly string[];
}

/**
 * A run config file as a run takes it: its `extends` chain merged (config-merge.ts says how),
 * then `set` applied, `plugins` made absolute against the folder of the file that names each
 * one, `extends` and `$schema` removed. This is the raw config `run` validates and keeps in
 * the run folder. Every error names the file and the JSON path: a missing, unreadable or
 * malformed file, an `extends` cycle, an unknown stage key, a bad `--set`.
 */
export async function loadConfig(path: string, options: LoadConfigOptions = {}): Promise<unknown> {
  const file = resolve(path);
  const config = await loadChain(file, []);
  if (!options.set || options.set.length === 0) return config;
  const { config: withSets, sets } = applySets(config, options.set);
  // plugins a --set adds are taken against the working directory, where the command was typed
  const plugins = configPlugins(withSets, process.cwd());
  if (plugins.length > 0) withSets.plugins = plugins;
  await checkSets(withSets, sets, file);
  return withSets;
}

/** The config in `file` with what it extends merged in; `chain` holds the files that extend it, to find cycles. */
async function loadChain(file: string, chain: readonly string[]): Promise<JsonObject> {
  const raw = await readJsonFile(file);
  const header = `Invalid config ${displayPath(file)}`;
  if (!isObject(raw)) throw new ConfigError([{ path: '(root)', message: `must be a JSON object like { "extends": "./default.json", ... }, got ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}` }], header);
  const { extends: extended, $schema: _schema, ...own } = raw;
  let plugins: string[];
  try {
    plugins = configPlugins(own, dirname(file));
  } catch (e) {
    throw e instanceof ConfigError ? new ConfigError(e.issues, header) : e;
  }
  if (plugins.length > 0) own.plugins = plugins;
  if (extended === undefined) {
    if (isObject(own.stages))
      throw new ConfigError([{ path: 'stages', message: 'an object of stage overrides needs a config to extend; add "extends": "./default.json" or write stages as a list' }], header);
    return own;
  }
  if (typeof extended !== 'string' || extended.length === 0)
    throw new ConfigError([{ path: 'extends', message: `must be the path of the config this one extends, relative to this file, e.g. "./default.json"; got ${JSON.stringify(extended)}` }], header);
  const base = await loadBase(resolve(dirname(file), extended), extended, [...chain, file], header);
  const issues: ConfigIssue[] = [];
  const merged = mergeValue(base, own, '', issues) as JsonObject;
  if (issues.length > 0) throw new ConfigError(issues, `${header} (extends ${extended})`);
  // plugins add up: an extending config keeps the types the config it extends was written with
  const allPlugins = [...new Set([...((base.plugins as string[] | undefined) ?? []), ...plugins])];
  if (allPlugins.length > 0) merged.plugins = allPlugins;
  return merged;
}

/** The config `extends` names; a missing file, or one already in the chain, is an error at `extends`. */
async function loadBase(file: string, written: string, chain: readonly string[], header: string): Promise<JsonObject> {
  if (chain.includes(file)) {
    const cycle = [...chain.slice(chain.indexOf(file)), file].map(displayPath).join(' -> ');
    throw new ConfigError([{ path: 'extends', message: `"${written}" makes a cycle: ${cycle}; a config cannot extend itself through others` }], header);
  }
  try {
    return await loadChain(file, chain);
  } catch (e) {
    // a file that is there but unreadable or malformed is its own error, naming it and the line
    if (!(e instanceof ConfigFileError) || e.file !== file || e.reason !== 'missing') throw e;
    throw new ConfigError([{ path: 'extends', message: `"${written}" not found (looked for ${displayPath(file)}); extends paths are relative to the file that names them` }], header);
  }
}

/**
 * Validates the config after `--set` and reports the schema's issues that a set value caused
 * (a wrong type, a misspelt field), naming the `--set`. Other issues are left to the run, which
 * reports them as for any config (an `hf:` LLM, for one, is complete only once its folder is read).
 */
async function checkSets(config: JsonObject, sets: readonly ConfigSet[], file: string): Promise<void> {
  const { registry } = await registryFor(config);
  try {
    parseRunConfig(config, registry);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const issues = e.issues.flatMap((issue) => {
      const set = [...sets].reverse().find((s) => issueFromSet(issue, s.path));
      return set ? [setIssue(issue, set)] : [];
    });
    if (issues.length > 0) throw new ConfigError(issues, `Invalid config ${displayPath(file)} with --set`);
  }
}
