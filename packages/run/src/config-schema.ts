import { z } from 'zod';
import { stageSchema } from '@mllm/training';
import { dataSchema, evalSchema, limitsSchema, tokenizerSchema, toolsSchema } from '@mllm/training/internal';
import { APPEND_STAGES } from './config-stage-keys';
import type { MllmRegistry } from './registry';

/**
 * A JSON Schema (draft 2020-12) of run config files, generated from the zod schemas that
 * validate them, so an editor completes and checks a config as `mllm run` would. Each model
 * slot is a `oneOf` over the registry's types (each branch fixes `type`), stages a `oneOf` by
 * stage type.
 *
 * A config with `extends` is partial, and its fields mean "change this": the schema checks it
 * against `$defs.partialConfig`, the same tree with nothing required, a `null` allowed wherever
 * a key may be removed, `oneOf` loosened to `anyOf` (a field without `type` may belong to any
 * branch), and `stages` either a full list or an object of stage overrides. Lists stay whole:
 * a list in an extending config replaces the inherited one. Cross-field rules (stage order, a
 * connector's width) are left to `parseRunConfig`.
 */
export function runConfigJsonSchema(registry: MllmRegistry): JsonSchema {
  const defs: Record<string, JsonSchema> = {};
  const slot = (name: string, reg: { types(): string[]; schemaOf(type: string): z.ZodType; readsFrom(type: string): boolean }) => ({
    description: `The ${name}: an object whose "type" is one of ${reg.types().join(', ')}, with that type's options.`,
    oneOf: reg.types().map((type) => withFrom(toJson(reg.schemaOf(type), `${name}.${type}`, defs), reg.readsFrom(type))),
  });
  // a stage appears in the full list, in appended stages and (partial) in overrides: one definition each
  defs.stage = toJson(stageSchema, 'stage', defs);
  const stage = { $ref: '#/$defs/stage' };
  const config: JsonSchema = {
    type: 'object',
    properties: {
      $schema: { type: 'string', description: 'Where editors find this schema, e.g. "./mllm.schema.json"; ignored by mllm.' },
      description: { type: 'string', description: 'What the config is for.' },
      plugins: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        description: 'Modules whose register(registry) adds component types: paths relative to this file, or package names.',
      },
      seed: { type: 'integer', minimum: 0, default: 0, description: 'Seed of weights, data and sampling: the same seed gives the same metrics.' },
      tokenizer: toJson(tokenizerSchema, 'tokenizer', defs),
      encoder: slot('encoder', registry.encoders),
      connector: slot('connector', registry.connectors),
      llm: slot('llm', registry.llms),
      data: toJson(dataSchema, 'data', defs),
      stages: { type: 'array', minItems: 1, items: stage, description: 'Training stages, run in order.' },
      eval: toJson(evalSchema, 'eval', defs),
      limits: toJson(limitsSchema, 'limits', defs),
      tools: toolsJsonSchema(toJson(toolsSchema, 'tools', defs), slot('tool', registry.tools)),
    },
    required: ['encoder', 'connector', 'llm', 'stages'],
    additionalProperties: false,
  };
  const partialConfig = partial(config);
  const partialProperties = partialConfig.properties as Record<string, JsonSchema>;
  partialProperties.extends = { type: 'string', minLength: 1, description: 'The config this one changes, relative to this file, e.g. "./default.json".' };
  partialProperties.stages = {
    description: `A list replaces the inherited stages. An object changes them: a key names a stage (its name, "<index>-<type>", its index, or its type when only one stage has it) whose value merges into it, or null removes it; "${APPEND_STAGES}" lists stages appended after them.`,
    anyOf: [
      config.properties!.stages!,
      {
        type: 'object',
        properties: { [APPEND_STAGES]: { type: 'array', items: stage } },
        additionalProperties: { anyOf: [partial(stage), { type: 'null' }] }, // partial() points the $ref at partial.stage
      },
    ],
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'mllm run config',
    description: 'A run config for `mllm run`: model slots, data, training stages, evaluation. With "extends", only what differs from the config it extends.',
    if: { type: 'object', required: ['extends'] },
    then: { $ref: '#/$defs/partialConfig' },
    else: { $ref: '#/$defs/config' },
    $defs: { config, partialConfig, ...defs, ...partialDefs(defs) },
  };
}

/**
 * A type whose registry entry resolves `from` before validation (the `causal` LLM reads an HF
 * folder) accepts the field though its zod schema does not list it.
 */
function withFrom(schema: JsonSchema, readsFrom: boolean): JsonSchema {
  if (!readsFrom || schema.properties?.from) return schema;
  const from = { type: 'string', pattern: '^hf:.+', description: 'A HuggingFace model folder, "hf:path/to/folder": its config.json sets the shape, its weights and tokenizer are loaded.' };
  return { ...schema, properties: { ...schema.properties, from } };
}

/** The `tools` section with each `use` entry checked against the registered tool types, as a component slot is. */
function toolsJsonSchema(tools: JsonSchema, tool: JsonSchema): JsonSchema {
  const properties = tools.properties ?? {};
  return { ...tools, properties: { ...properties, use: { ...properties.use, items: tool } } };
}

/** A JSON Schema object; `true`/`false` schemas appear only nested. */
export type JsonSchema = { [keyword: string]: unknown; properties?: Record<string, JsonSchema> };

/**
 * One zod schema as JSON Schema, describing what a config may say (zod's input side: a field
 * with a default is optional). Shared definitions, if zod makes any, move to `defs` under a
 * prefix, so two schemas' `$defs` cannot collide.
 */
function toJson(schema: z.ZodType, prefix: string, defs: Record<string, JsonSchema>): JsonSchema {
  const generated = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', override: dropSafeIntegerBounds });
  const { $schema: _, $defs, ...json } = generated as JsonSchema;
  const rename = (ref: string) => ref.replace(/^#\/\$defs\//, `#/$defs/${prefix}.`);
  const renamed = mapRefs(json, rename);
  for (const [name, def] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) defs[`${prefix}.${name}`] = mapRefs(def, rename);
  return renamed;
}

/** zod bounds every integer by +-2^53-1; the bound says nothing to a person reading a config, so it is left out. */
function dropSafeIntegerBounds({ jsonSchema }: { jsonSchema: Record<string, unknown> }): void {
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
}

function mapRefs<T>(node: T, rename: (ref: string) => string): T {
  if (Array.isArray(node)) return node.map((n) => mapRefs(n, rename)) as T;
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? rename(v) : mapRefs(v, rename)])) as T;
}

const PARTIAL_REF = (ref: string) => ref.replace(/^#\/\$defs\//, '#/$defs/partial.');

/** Shared definitions in their partial form, for the `$ref`s that `partial` rewrote. */
function partialDefs(defs: Record<string, JsonSchema>): Record<string, JsonSchema> {
  return Object.fromEntries(Object.entries(defs).map(([name, def]) => [`partial.${name}`, partial(def)]));
}

/**
 * What an extending config may say where `schema` describes a full value: objects without
 * `required`, each property also `null` (remove it), `oneOf` as `anyOf`. Below a list nothing
 * changes: a list is replaced whole, so its items are full values.
 */
function partial(schema: JsonSchema): JsonSchema {
  if (typeof schema !== 'object' || schema === null) return schema;
  const { required: _, oneOf, anyOf, allOf, properties, $ref, ...rest } = schema;
  const out: JsonSchema = { ...rest };
  if (typeof $ref === 'string') out.$ref = PARTIAL_REF($ref);
  if (properties) out.properties = Object.fromEntries(Object.entries(properties).map(([k, p]) => [k, { anyOf: [partial(p), { type: 'null' }] }]));
  if (oneOf || anyOf) out.anyOf = ([...((oneOf ?? []) as JsonSchema[]), ...((anyOf ?? []) as JsonSchema[])]).map(partial);
  if (allOf) out.allOf = (allOf as JsonSchema[]).map(partial);
  if (isObjectSchema(rest.additionalProperties)) out.additionalProperties = partial(rest.additionalProperties);
  return out;
}

const isObjectSchema = (value: unknown): value is JsonSchema => typeof value === 'object' && value !== null && !Array.isArray(value);
