import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ConfigError } from '@mllm/core';
import { parseRunConfig } from '@mllm/training';
import { createRegistry } from './registry';
import { loadConfig } from './config-load';
import { runConfigJsonSchema } from './config-schema';
import { STANDIN_NAMES, writeHfStandin } from './hf-standin/index';
import { resolvePretrainedSources } from './pretrained-sources';

const dir = fileURLToPath(new URL('../../../configs/', import.meta.url));
const schemaFile = join(dir, 'mllm.schema.json');
const names = readdirSync(dir, { recursive: true })
  .map(String)
  .filter((n) => n.endsWith('.json') && n !== 'mllm.schema.json')
  .sort();
const readJson = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
const shippedSchema = JSON.parse(readFileSync(schemaFile, 'utf8')) as Record<string, unknown>;

/** A real JSON Schema validator over the shipped file: what an editor checks a config with (compiled once: it is large). */
let compiled: ReturnType<Ajv2020['compile']> | undefined;
const validator = () => (compiled ??= new Ajv2020({ allErrors: true }).compile(shippedSchema));

/**
 * configs/hf-llava-* read `models/<name>`, folders `mllm hf-standin <name> --out models/<name>`
 * writes: each must be a stand-in's name, and with test-size stand-ins there the config parses.
 */
const standinDirs = new Map<string, string>();
async function withTinyStandins(config: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out = structuredClone(config);
  for (const slot of ['encoder', 'llm'] as const) {
    const from = (out[slot] as { from?: unknown }).from;
    if (typeof from !== 'string') continue;
    const name = /^hf:models\/([^/]+)$/.exec(from)?.[1];
    expect(STANDIN_NAMES, `${slot}.from ${from} is not hf:models/<a stand-in name>`).toContain(name);
    if (!standinDirs.has(name!)) {
      const target = join(mkdtempSync(join(tmpdir(), 'shipped-standin-')), name!);
      await writeHfStandin(name!, target, { overrides: name!.startsWith('smollm2') ? TINY_LLAMA : { vision_config: TINY_TOWER, vision_config_dict: TINY_TOWER, text_config: TINY_TEXT, text_config_dict: TINY_TEXT } });
      standinDirs.set(name!, target);
    }
    (out[slot] as { from: string }).from = `hf:${standinDirs.get(name!)}`;
  }
  return out;
}
const TINY_LLAMA = { hidden_size: 24, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 3, num_key_value_heads: 1 };
const TINY_TOWER = { hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 2, image_size: 32, patch_size: 16 };
const TINY_TEXT = { hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 40, max_position_embeddings: 8 };

describe('configs/', () => {
  it('ships what a user starts from, and experiments under configs/experiments/', () => {
    expect(names).toEqual(expect.arrayContaining(['default.json', 'tiny.json', 'qformer.json', 'highres-tiles.json', 'experiments/highres-tiles-p8.json']));
    expect(names.filter((n) => n.startsWith('experiments/')).length).toBeGreaterThanOrEqual(10);
  });

  // a README points users at each of these: one that no longer parses fails only when someone runs it
  it.each(names)('%s resolves to a valid run config', async (name) => {
    const registry = createRegistry();
    const config = (await resolvePretrainedSources(await withTinyStandins((await loadConfig(join(dir, name))) as Record<string, unknown>), registry)).raw; // as run() does before validating
    expect(() => parseRunConfig(config, registry)).not.toThrow();
    expect(config).not.toHaveProperty('extends');
    expect(config).not.toHaveProperty('$schema');
  });

  it.each(names)('%s names the shipped schema and states only what differs from the config it extends', (name) => {
    const raw = readJson(name);
    expect(resolve(dir, dirname(name), String(raw.$schema))).toBe(schemaFile);
    // default.json and tiny.json are whole configs; a copy of one with a few changes would hide what it is for
    if (name !== 'default.json' && name !== 'tiny.json') expect(raw.extends).toEqual(expect.any(String));
    expect(raw.description).toEqual(expect.any(String));
  });
});

describe('configs/mllm.schema.json', () => {
  it('is what runConfigJsonSchema(createRegistry()) generates (regenerate: npm run build && node tools/write-config-schema.mjs)', () => {
    expect(shippedSchema).toEqual(JSON.parse(JSON.stringify(runConfigJsonSchema(createRegistry()))));
  });

  it.each(names)('accepts %s as written and as resolved', async (name) => {
    const validate = validator();
    expect(validate(readJson(name)), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(await loadConfig(join(dir, name))), JSON.stringify(validate.errors)).toBe(true);
  });

  // the schema is only useful if it refuses what mllm refuses, at the same place
  it.each([
    ['a misspelt connector field', (c: any) => (c.connector.depht = 2), 'connector'],
    ['a string where a number goes', (c: any) => (c.connector.depth = 'two'), 'connector.depth'],
    ['an unknown connector type', (c: any) => (c.connector = { type: 'mlpp' }), 'connector.type'],
    ['an unknown top-level field', (c: any) => (c.seeds = 3), ''],
    ['a negative seed', (c: any) => (c.seed = -1), 'seed'],
    ['a stage without steps', (c: any) => delete c.stages[0].steps, 'stages[0].steps'],
    ['an unknown stage type', (c: any) => (c.stages[1].type = 'dance'), 'stages[1].type'],
    ['a field of another stage type', (c: any) => (c.stages[2].beta = 0.1), 'stages[2]'],
    ['no stages', (c: any) => (c.stages = []), 'stages'],
    ['no encoder', (c: any) => delete c.encoder, 'encoder'],
  ])('refuses %s, as parseRunConfig does (at %s)', (_, change, path) => {
    const config = structuredClone(readJson('tiny.json'));
    change(config);
    const validate = validator();
    expect(validate(config)).toBe(false);
    const error = (() => {
      try {
        parseRunConfig(config, createRegistry());
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.issues.map((i) => i.path)).toContain(path);
  });

  it('checks an extending config as partial: overrides need no required field, but a misspelt one is refused', () => {
    const validate = validator();
    const partial = { extends: './default.json', connector: { depth: 3 }, stages: { instruct: { steps: 10 }, dpo: null, '+': [{ type: 'align', steps: 5 }] } };
    expect(validate(partial), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...partial, connector: { depht: 3 } })).toBe(false);
    expect(validate({ ...partial, stages: { instruct: { stepz: 10 } } })).toBe(false);
    expect(validate({ ...partial, stages: { '+': [{ type: 'align' }] } })).toBe(false); // an appended stage is whole: it needs steps
    expect(validate({ connector: { depth: 3 } })).toBe(false); // without extends a config is whole
  });
});
