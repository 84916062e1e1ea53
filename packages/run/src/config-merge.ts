import type { ConfigIssue } from '@mllm/core';
import { APPEND_STAGES, findStage } from './config-stage-keys';

/**
 * How an extending config changes the config it extends. Objects merge key by key (JSON Merge
 * Patch, RFC 7396): the extending file's values win, `null` removes an inherited key. Two
 * exceptions, both because a value means nothing outside its own kind:
 *
 * - an object whose `type` differs from the inherited one replaces it whole: a `qformer`
 *   connector does not take the `mlp` connector's `depth`;
 * - arrays replace (a list of grids or data sources is one value), except `stages`: an object
 *   there changes the inherited stages by key (see `overrideStages`).
 */
export type JsonObject = Record<string, unknown>;

export const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `over` merged into `base`; `path` names the place for errors. */
export function mergeValue(base: unknown, over: unknown, path: string, issues: ConfigIssue[]): unknown {
  if (!isObject(over)) return over;
  const sameKind = isObject(base) && (over.type === undefined || base.type === undefined || over.type === base.type);
  const result: JsonObject = sameKind ? { ...base } : {};
  for (const [key, value] of Object.entries(over)) {
    const at = path ? `${path}.${key}` : key;
    if (value === null) delete result[key];
    else if (key === 'stages' && path === '' && isObject(value)) result[key] = overrideStages(result[key], value, issues);
    else result[key] = mergeValue(result[key], value, at, issues);
  }
  return result;
}

/**
 * The inherited stages changed by a stage-override object: each key names a stage (its name,
 * index or unique type, as `findStage` reads them) whose value merges into it, or `null`
 * removes it; the key `"+"` lists stages appended after the others. Keys are all read
 * against the inherited list, so `{ "dpo": null, "+": [...] }` means the same in any order.
 */
export function overrideStages(inherited: unknown, overrides: JsonObject, issues: ConfigIssue[]): unknown[] {
  if (!Array.isArray(inherited)) {
    issues.push({ path: 'stages', message: 'an object of stage overrides needs stages to override; extend a config that has them, or write stages as a list' });
    return [];
  }
  const stages: (unknown | undefined)[] = [...inherited];
  const claimed = new Map<number, string>();
  let appended: unknown[] = [];
  for (const [key, value] of Object.entries(overrides)) {
    const path = `stages.${key}`;
    if (key === APPEND_STAGES) {
      if (Array.isArray(value) && value.every(isObject)) appended = value;
      else issues.push({ path, message: 'must be a list of stages to append, e.g. [{ "type": "instruct", "steps": 500 }]' });
      continue;
    }
    const found = findStage(inherited, key);
    if ('error' in found) {
      issues.push({ path, message: `${found.error}; "${APPEND_STAGES}": [...] appends stages` });
      continue;
    }
    const earlier = claimed.get(found.index);
    if (earlier !== undefined) {
      issues.push({ path, message: `names the same stage as stages.${earlier}; merge the two` });
      continue;
    }
    claimed.set(found.index, key);
    if (value === null) stages[found.index] = undefined;
    else if (isObject(value)) stages[found.index] = mergeValue(inherited[found.index], value, `stages[${found.index}]`, issues);
    else issues.push({ path, message: 'must be an object merged into the stage, or null to remove it' });
  }
  return [...stages.filter((stage) => stage !== undefined), ...appended.map((stage, i) => mergeValue(undefined, stage, `stages.+[${i}]`, issues))];
}
