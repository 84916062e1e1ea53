import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from './errors';

export interface RegistryEntry<TContext, TResult> {
  schema: z.ZodType;
  // each entry has its own schema; `register` types the builder against it, the map cannot
  build: (config: any, context: TContext) => TResult;
}

/**
 * Exact-key registry of component types. A config object `{ type, ...options }` is
 * validated by the type's zod schema; an unknown type lists the known ones.
 */
export class Registry<TContext, TResult> {
  private readonly entries = new Map<string, RegistryEntry<TContext, TResult>>();

  constructor(readonly slot: string) {}

  register<S extends z.ZodType>(type: string, schema: S, build: (config: z.output<S>, context: TContext) => TResult): void {
    if (this.entries.has(type)) throw new Error(`${this.slot} type "${type}" is already registered`);
    this.entries.set(type, { schema, build });
  }

  has(type: string): boolean {
    return this.entries.has(type);
  }

  types(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** The zod schema a type's config is validated with (for a JSON Schema of configs); an unknown type lists the known ones. */
  schemaOf(type: string): z.ZodType {
    const entry = this.entries.get(type);
    if (!entry) throw new ConfigError([{ path: `${this.slot}.type`, message: `unknown ${this.slot} type ${JSON.stringify(type)}; allowed: ${this.types().join(', ')}` }]);
    return entry.schema;
  }

  /** Validates without building; returns the parsed config (defaults filled) or the issues, each with its path. */
  validate(config: unknown, path = this.slot): { ok: true; value: { type: string } & Record<string, unknown> } | { ok: false; issues: ConfigIssue[] } {
    if (typeof config !== 'object' || config === null || Array.isArray(config))
      return { ok: false, issues: [{ path, message: `must be an object with a "type" (one of: ${this.types().join(', ')})` }] };
    const type = (config as { type?: unknown }).type;
    if (typeof type !== 'string' || !this.entries.has(type))
      return {
        ok: false,
        issues: [{ path: `${path}.type`, message: `unknown ${this.slot} type ${JSON.stringify(type)}; allowed: ${this.types().join(', ')}` }],
      };
    const result = this.entries.get(type)!.schema.safeParse(config);
    if (result.success) return { ok: true, value: result.data as { type: string } & Record<string, unknown> };
    return { ok: false, issues: zodIssues(result.error, path) };
  }

  build(config: unknown, context: TContext, path = this.slot): TResult {
    const checked = this.validate(config, path);
    if (!checked.ok) throw new ConfigError(checked.issues);
    return this.entries.get(checked.value.type)!.build(checked.value, context);
  }
}

/** Flattens zod issues into `path: message` pairs under a prefix, listing allowed values where zod knows them. */
export function zodIssues(error: z.ZodError, prefix = ''): ConfigIssue[] {
  return error.issues.map((issue) => {
    let path = prefix;
    for (const key of issue.path) path += typeof key === 'number' ? `[${key}]` : path ? `.${String(key)}` : String(key);
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    if (issue.code === 'invalid_value' && 'values' in issue) message = `${issue.message}; allowed: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    return { path, message };
  });
}
