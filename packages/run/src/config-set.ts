import { ConfigError, type ConfigIssue } from '@mllm/core';
import { findStage } from './config-stage-keys';
import { isObject, type JsonObject } from './config-merge';

/**
 * `--set path=value`: one value of a resolved config changed from the command line, after every
 * `extends`. Paths read as in error messages: `seed=4`, `connector.depth=3`, `stages[2].lr=1e-4`,
 * and a stage may be named as in an extending config, `stages.instruct.steps=100`. The value is
 * JSON when it parses as JSON (`3`, `true`, `[1, 2]`, `{"type": "mlp"}`), else the string itself;
 * `null` removes the key (or the stage).
 */
export interface ConfigSet {
  /** As the user wrote it, to say where a value came from in errors. */
  text: string;
  value: unknown;
  /** The path written with stage names resolved to indices, as zod's issues name it: `stages[3].steps`. */
  path: string;
}

type Segment = string | number;

/** `a.b[2].c` as ["a", "b", 2, "c"]; a stage name such as `3-instruct` is one segment. */
function parsePath(path: string): Segment[] | undefined {
  const segments: Segment[] = [];
  const token = /([^.[\]]+)|\[(\d+)\]/y;
  let at = 0;
  while (at < path.length) {
    if (segments.length > 0 && path[at] === '.') at++;
    token.lastIndex = at;
    const m = token.exec(path);
    if (!m) return undefined;
    segments.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
    at = token.lastIndex;
  }
  return segments.length > 0 ? segments : undefined;
}

const formatPath = (segments: readonly Segment[]): string =>
  segments.reduce<string>((path, s) => (typeof s === 'number' ? `${path}[${s}]` : path ? `${path}.${s}` : s), '');

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // `--set description=a run` is the string itself
  }
}

/** Applies `--set path=value` strings in order to a copy of `config`; a malformed one or a path that cannot be walked is a ConfigError naming it. */
export function applySets(config: JsonObject, sets: readonly string[]): { config: JsonObject; sets: ConfigSet[] } {
  const result = structuredClone(config);
  const applied: ConfigSet[] = [];
  const issues: ConfigIssue[] = [];
  for (const text of sets) {
    const equals = text.indexOf('=');
    const segments = equals > 0 ? parsePath(text.slice(0, equals)) : undefined;
    if (equals < 0) {
      issues.push({ path: text, message: `--set ${text}: missing "="; write --set path=value, e.g. --set connector.depth=3` });
      continue;
    }
    if (!segments) {
      issues.push({ path: text.slice(0, equals) || '(root)', message: `--set ${text}: "${text.slice(0, equals)}" is not a config path; write e.g. connector.depth, stages[2].lr or stages.instruct.steps` });
      continue;
    }
    const value = parseValue(text.slice(equals + 1));
    const placed = setAt(result, segments, value);
    if ('error' in placed) issues.push({ path: placed.path, message: `--set ${text}: ${placed.error}` });
    else applied.push({ text, value, path: placed.path });
  }
  if (issues.length > 0) throw new ConfigError(issues, 'Invalid --set');
  return { config: result, sets: applied };
}

/**
 * Sets `value` at `segments` inside `root`. Objects on the way that are absent are created (a
 * field left to its default, e.g. `tokenizer.minFrequency`), so a misspelt name is left for the
 * schema, which names unknown fields; lists must hold the index, stages are found by name.
 */
function setAt(root: JsonObject, segments: readonly Segment[], value: unknown): { path: string } | { path: string; error: string } {
  let node: unknown = root;
  const resolved: Segment[] = [];
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    const here = formatPath(resolved);
    let key: Segment = segment;
    if (Array.isArray(node)) {
      if (here === 'stages') {
        const found = findStage(node, String(segment));
        if ('error' in found) return { path: formatPath([...resolved, segment]), error: `stages.${segment} ${found.error}` };
        key = found.index;
      } else if (typeof segment === 'number' || /^\d+$/.test(segment)) {
        key = Number(segment);
        if (key >= node.length) return { path: formatPath([...resolved, key]), error: `${here} has ${node.length} item(s); there is no [${key}]` };
      } else return { path: formatPath([...resolved, segment]), error: `${here} is a list; name an item by index, e.g. ${here}[0]` };
    } else if (isObject(node)) {
      if (typeof segment === 'number') return { path: formatPath([...resolved, segment]), error: `${here || 'the config'} is an object, not a list; name a field, e.g. ${here ? `${here}.` : ''}name` };
    } else return { path: formatPath([...resolved, segment]), error: `${here} is ${JSON.stringify(node)}, not an object or a list; set ${here} itself` };
    resolved.push(key);
    const container = node as Record<Segment, unknown> & unknown[];
    if (last) {
      if (value !== null) container[key] = value;
      else if (Array.isArray(container)) container.splice(key as number, 1);
      else delete container[key];
    } else {
      if (container[key] === undefined) container[key] = {};
      node = container[key];
    }
  }
  return { path: formatPath(resolved) };
}

/**
 * Whether a schema issue at `issuePath` comes from a `--set` at `setPath`: the set value itself
 * or something inside it, or an object around it that now fails (e.g. a misspelt field, which
 * zod reports on its parent as an unknown field).
 */
export function issueFromSet(issue: ConfigIssue, setPath: string): boolean {
  const at = issue.path === '(root)' ? '' : issue.path;
  if (at === setPath || at.startsWith(`${setPath}.`) || at.startsWith(`${setPath}[`)) return true;
  if (at !== '' && (setPath.startsWith(`${at}.`) || setPath.startsWith(`${at}[`))) return true;
  const first = /^[^.[]+/.exec(setPath)?.[0];
  return at === '' && first !== undefined && issue.message.includes(JSON.stringify(first));
}

/** An issue `issueFromSet` matched, said in terms of the `--set` that caused it: a misspelt name "does not exist". */
export function setIssue(issue: ConfigIssue, set: ConfigSet): ConfigIssue {
  const parent = issue.path === '(root)' ? '' : issue.path;
  const next = /^\.?([^.[]+)/.exec(set.path.slice(parent.length))?.[1];
  const unknown = /^unknown field\(s\) (.*)$/.exec(issue.message)?.[1];
  if (unknown && next !== undefined && set.path.startsWith(parent) && unknown.includes(JSON.stringify(next))) {
    const missing = parent ? `${parent}.${next}` : next;
    return { path: missing, message: `--set ${set.text}: ${missing} does not exist (${parent || 'the config'} has no field ${JSON.stringify(next)})` };
  }
  return { path: issue.path, message: `--set ${set.text}: ${issue.message}` };
}
