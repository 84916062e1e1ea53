import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from './errors';
import type { ComponentSize, EstimateContext, SizeEstimator } from './size-estimate';

export interface RegistryEntry<TContext, TResult> {
  schema: z.ZodType;
  // each entry has its own schema; `register` types the builder against it, the map cannot
  build: (config: any, context: TContext) => TResult;
  fromSource?: FromSourceResolver<TResult>;
  estimate?: SizeEstimator;
}

/**
 * A pretrained source a config names with `"from"` (e.g. `"hf:path/to/folder"`), read before the
 * config is validated: the small files only, so config errors surface before weights load.
 */
export interface PretrainedSource<TResult> {
  /** The slot's config with what the source fixes filled in and `from` removed, ready to validate. */
  config: Record<string, unknown>;
  /** Copies the source's weights into the component built from `config` (call once, after building). */
  load(component: TResult): Promise<void>;
  /** The tokenizer the source was trained with (an LLM's folder), and the vocabulary its weights cover. */
  tokenizer?: { dir: string; vocabSize: number };
}

/** Resolves a slot config's `from` for one registered type; `path` is the slot's JSON path, for errors. */
export type FromSourceResolver<TResult> = (config: Record<string, unknown> & { from: string }, path: string) => Promise<PretrainedSource<TResult>>;

export interface RegisterOptions<TResult, TConfig = any> {
  /**
   * How this type reads `"from"` before validation (an HF LLM: shape from config.json, tokenizer,
   * weights after building). Absent: `from`, if the schema has it, is the type's own business.
   */
  fromSource?: FromSourceResolver<TResult>;
  /**
   * The type's size (parameters, width, tokens, layers) from its validated config, without
   * building it, so a run refuses a config too large for the machine first. Absent (a plugin
   * type without one): the size is unknown, and no limit refuses the type.
   */
  estimate?: (config: TConfig, context: EstimateContext) => ComponentSize | undefined;
}

/**
 * Exact-key registry of component types. A config object `{ type, ...options }` is
 * validated by the type's zod schema; an unknown type lists the known ones.
 */
export class Registry<TContext, TResult> {
  private readonly entries = new Map<string, RegistryEntry<TContext, TResult>>();

  constructor(readonly slot: string) {}

  register<S extends z.ZodType>(type: string, schema: S, build: (config: z.output<S>, context: TContext) => TResult, options: RegisterOptions<TResult, z.output<S>> = {}): void {
    if (this.entries.has(type)) throw new Error(`${this.slot} type "${type}" is already registered`);
    this.entries.set(type, { schema, build, ...(options.fromSource && { fromSource: options.fromSource }), ...(options.estimate && { estimate: options.estimate as SizeEstimator }) });
  }

  /** The size a validated config implies (see `RegisterOptions.estimate`); undefined when its type has no estimator. */
  estimate(config: { type: string }, context: EstimateContext = {}): ComponentSize | undefined {
    return this.entries.get(config.type)?.estimate?.(config, context);
  }

  /**
   * The pretrained source a slot config names with `from`, resolved by its type's entry;
   * undefined when the config has no `from`, or its type reads `from` itself (or is unknown:
   * validation then reports it).
   */
  async resolveFrom(config: unknown, path = this.slot): Promise<PretrainedSource<TResult> | undefined> {
    if (typeof config !== 'object' || config === null || !('from' in config)) return undefined;
    const from = (config as { from?: unknown }).from;
    if (typeof from !== 'string') return undefined;
    const entry = this.entries.get(String((config as { type?: unknown }).type));
    return entry?.fromSource?.({ ...(config as Record<string, unknown>), from }, path);
  }

  has(type: string): boolean {
    return this.entries.has(type);
  }

  /** Whether the type resolves a `from` source before validation (its zod schema does not list `from`). */
  readsFrom(type: string): boolean {
    return this.entries.get(type)?.fromSource !== undefined;
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
