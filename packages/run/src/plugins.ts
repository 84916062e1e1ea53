import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve as resolveImport } from 'import-meta-resolve';
import { ConfigError, type ConfigIssue } from '@mllm/core';
import { createRegistry, type MllmRegistry } from './registry';

/**
 * What a plugin module exports: `register` adds component types (and their exporters) to the
 * registry a run builds from, exactly as the built-in packages add theirs.
 */
export interface MllmPlugin {
  register(registry: MllmRegistry): void | Promise<void>;
}

const isPath = (spec: string) => spec.startsWith('.') || isAbsolute(spec) || spec.startsWith('file:');

/**
 * A config's `plugins` entries as absolute file paths: a path is taken against `baseDir` (the
 * folder of the config file that names it), a package name is resolved from `baseDir` as
 * Node's `import` would, so the plugin shares the run's own copies of tfjs and @mllm/*.
 */
export function resolvePlugins(specs: readonly string[], baseDir: string, path = 'plugins'): string[] {
  const issues: ConfigIssue[] = [];
  const resolved = specs.map((spec, i) => {
    try {
      return resolvePlugin(spec, baseDir);
    } catch (e) {
      issues.push({ path: `${path}[${i}]`, message: (e as Error).message });
      return spec;
    }
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return resolved;
}

function resolvePlugin(spec: string, baseDir: string): string {
  if (isPath(spec)) {
    const file = spec.startsWith('file:') ? fileURLToPath(spec) : resolve(baseDir, spec);
    if (!existsSync(file)) throw new Error(`plugin file ${file} not found (paths are taken relative to the config file that names them)`);
    return file;
  }
  try {
    // the parent is a file inside baseDir, so node_modules are searched from there upwards
    return fileURLToPath(resolveImport(spec, pathToFileURL(resolve(baseDir, 'config.json')).href));
  } catch (e) {
    throw new Error(`cannot find the plugin package "${spec}" from ${baseDir} (${(e as Error).message.split('\n')[0]}); npm install it there, or name the plugin's file by path`);
  }
}

/**
 * Imports each plugin (absolute paths, as `resolvePlugins` gives them) and lets it register
 * its types in `registry`. A plugin that cannot be imported, exports no `register`, or whose
 * `register` throws is a config error at `plugins[i]`.
 */
export async function loadPlugins(registry: MllmRegistry, plugins: readonly string[]): Promise<MllmRegistry> {
  for (const [i, file] of plugins.entries()) {
    const path = `plugins[${i}]`;
    let module: Partial<MllmPlugin> & { default?: Partial<MllmPlugin> };
    try {
      module = (await import(pathToFileURL(file).href)) as typeof module;
    } catch (e) {
      throw new ConfigError([{ path, message: `cannot load plugin ${file}: ${(e as Error).message.split('\n')[0]}` }]);
    }
    const register = module.register ?? module.default?.register;
    if (typeof register !== 'function')
      throw new ConfigError([{ path, message: `plugin ${file} exports no register(registry) function; export one that adds its types, e.g. registry.connectors.register('my-type', schema, build)` }]);
    try {
      await register(registry);
    } catch (e) {
      throw new ConfigError([{ path, message: `plugin ${file}: register(registry) failed: ${(e as Error).message}` }]);
    }
  }
  return registry;
}

/** The plugins a raw config names, resolved against `baseDir`; [] when it names none. */
export function configPlugins(raw: unknown, baseDir: string): string[] {
  const plugins = (raw as { plugins?: unknown } | null)?.plugins;
  if (plugins === undefined) return [];
  if (!Array.isArray(plugins) || !plugins.every((p) => typeof p === 'string' && p.length > 0))
    throw new ConfigError([{ path: 'plugins', message: 'must be a list of plugin paths or package names, e.g. ["./my-connector.mjs"]' }]);
  return resolvePlugins(plugins as string[], baseDir);
}

/**
 * A fresh registry with the built-in types and those of the plugins `raw` names. Returns the
 * config with its plugins made absolute, so the run folder's copy loads them from anywhere.
 */
export async function registryFor(raw: unknown, baseDir = process.cwd()): Promise<{ registry: MllmRegistry; raw: unknown }> {
  const plugins = configPlugins(raw, baseDir);
  const registry = await loadPlugins(createRegistry(), plugins);
  return { registry, raw: plugins.length > 0 ? { ...(raw as Record<string, unknown>), plugins } : raw };
}

