import { describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, MllmError, silentLogger } from '@mllm/core';
import { parseRunConfig } from '@mllm/training';
import { loadConfig } from './config-load';
import { createRegistry } from './registry';
import { run } from './run';

const configs = fileURLToPath(new URL('../../../configs/', import.meta.url));
const tinyFile = join(configs, 'tiny.json');
const defaultFile = join(configs, 'default.json');

/** Writes `files` (name -> JSON value, or raw text) into a fresh folder; returns the folder. */
function folder(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mllm-config-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

const failure = async (promise: Promise<unknown>): Promise<Error> => {
  const e = await promise.then(() => undefined, (e: unknown) => e);
  if (!(e instanceof Error)) throw new Error('expected the promise to reject');
  return e;
};
type Stage = { type: string; steps: number; name?: string; lr?: number; batchSize?: number };
const stagesOf = (config: unknown) => (config as { stages: Stage[] }).stages;

describe('loadConfig: extends', () => {
  const base = {
    seed: 1,
    encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 2, heads: 2 },
    connector: { type: 'mlp', depth: 2 },
    llm: { type: 'causal', dim: 16, layers: 1, heads: 2 },
    data: { train: 60, val: 10, test: 10 },
    stages: [
      { type: 'align', steps: 4, lr: 0.003 },
      { type: 'instruct', steps: 6, batchSize: 8 },
      { type: 'instruct', name: 'polish', steps: 2 },
    ],
  };

  it('merges objects key by key, the extending file winning; null removes; arrays and a new type replace', async () => {
    const dir = folder({
      'base.json': base,
      'child.json': {
        $schema: './mllm.schema.json',
        extends: './base.json',
        encoder: { dim: 32, patchSize: null },
        data: { train: 100 },
        connector: { type: 'qformer', numQueries: 4 },
        llm: { ffn: { type: 'moe', experts: 4 } },
      },
    });
    const config = (await loadConfig(join(dir, 'child.json'))) as typeof base & Record<string, unknown>;
    expect(config.encoder).toEqual({ type: 'vit', imageSize: 16, dim: 32, layers: 2, heads: 2 });
    expect(config.data).toEqual({ train: 100, val: 10, test: 10 });
    expect(config.connector).toEqual({ type: 'qformer', numQueries: 4 }); // not the mlp's depth
    expect(config.llm).toEqual({ type: 'causal', dim: 16, layers: 1, heads: 2, ffn: { type: 'moe', experts: 4 } });
    expect(config.stages).toEqual(base.stages);
    expect(config).not.toHaveProperty('extends');
    expect(config).not.toHaveProperty('$schema');
  });

  it('changes stages named by type, "<index>-<type>", name or index; null removes one, "+" appends, a list replaces', async () => {
    const dir = folder({
      'base.json': base,
      'by-key.json': { extends: './base.json', stages: { align: { lr: 0.001 }, '1-instruct': { steps: 9 }, polish: null, '+': [{ type: 'dpo', steps: 3 }] } },
      'by-index.json': { extends: './base.json', stages: { '2': { steps: 7 }, '0': { type: 'pretrain-llm', steps: 5 } } },
      'list.json': { extends: './base.json', stages: [{ type: 'align', steps: 1 }] },
    });
    expect(stagesOf(await loadConfig(join(dir, 'by-key.json')))).toEqual([
      { type: 'align', steps: 4, lr: 0.001 },
      { type: 'instruct', steps: 9, batchSize: 8 },
      { type: 'dpo', steps: 3 },
    ]);
    // a stage of another type replaces the inherited one whole (no align lr carried into pretrain-llm)
    expect(stagesOf(await loadConfig(join(dir, 'by-index.json')))).toEqual([
      { type: 'pretrain-llm', steps: 5 },
      { type: 'instruct', steps: 6, batchSize: 8 },
      { type: 'instruct', name: 'polish', steps: 7 },
    ]);
    expect(stagesOf(await loadConfig(join(dir, 'list.json')))).toEqual([{ type: 'align', steps: 1 }]);
  });

  it('refuses a stage key that names no stage, listing the keys there are; a type two stages share; two keys for one stage', async () => {
    const dir = folder({
      'base.json': base,
      'typo.json': { extends: './base.json', stages: { instrct: { steps: 1 } } },
      'ambiguous.json': { extends: './base.json', stages: { instruct: { steps: 1 } } },
      'twice.json': { extends: './base.json', stages: { align: { steps: 1 }, '0': { lr: 1 } } },
      'no-base.json': { ...base, stages: { align: { steps: 1 } } },
    });
    const typo = await failure(loadConfig(join(dir, 'typo.json')));
    expect(typo).toBeInstanceOf(ConfigError);
    expect(typo.message).toContain('typo.json');
    expect(typo.message).toMatch(/stages\.instrct: names no stage; the stages are: 0-align \(or align, or 0\), 1-instruct \(or 1\), polish \(or 2\)/);
    expect((await failure(loadConfig(join(dir, 'ambiguous.json')))).message).toMatch(/stages\.instruct: is ambiguous: 2 stages have type "instruct" \(1-instruct, polish\); name one of them/);
    // JSON object keys that look like integers come first, so either key may be the one reported
    expect((await failure(loadConfig(join(dir, 'twice.json')))).message).toMatch(/stages\.(0|align): names the same stage as stages\.(align|0); merge the two/);
    expect((await failure(loadConfig(join(dir, 'no-base.json')))).message).toMatch(/stages: an object of stage overrides needs a config to extend/);
  });

  it('takes each plugin path against the folder of the file that names it, and keeps the inherited plugins', async () => {
    const dir = folder({
      'lib/plugin-a.mjs': 'export function register() {}',
      'lib/base.json': { ...base, plugins: ['./plugin-a.mjs'] },
      'runs/plugin-b.mjs': 'export function register() {}',
      'runs/child.json': { extends: '../lib/base.json', plugins: ['./plugin-b.mjs'] },
    });
    const config = (await loadConfig(join(dir, 'runs/child.json'))) as { plugins: string[] };
    expect(config.plugins).toEqual([join(dir, 'lib/plugin-a.mjs'), join(dir, 'runs/plugin-b.mjs')]);
  });

  it('names the file and `extends` for a missing file, a cycle, a wrong type; the line and column of bad JSON', async () => {
    const dir = folder({
      'missing.json': { extends: './nope.json' },
      'a.json': { extends: './b.json' },
      'b.json': { extends: './a.json' },
      'self.json': { extends: './self.json' },
      'number.json': { extends: 3 },
      'list.json': [1, 2],
      'broken.json': '{\n  "seed": 1,\n  oops\n}',
      'extends-broken.json': { extends: './broken.json' },
    });
    const missing = await failure(loadConfig(join(dir, 'missing.json')));
    expect(missing).toBeInstanceOf(ConfigError);
    expect(missing.message).toMatch(/Invalid config .*missing\.json:\n {2}- extends: "\.\/nope\.json" not found \(looked for .*nope\.json\); extends paths are relative to the file that names them/);
    expect((await failure(loadConfig(join(dir, 'a.json')))).message).toMatch(/extends: "\.\/a\.json" makes a cycle: \S*a\.json -> \S*b\.json -> \S*a\.json/);
    expect((await failure(loadConfig(join(dir, 'self.json')))).message).toMatch(/makes a cycle: \S*self\.json -> \S*self\.json/);
    expect((await failure(loadConfig(join(dir, 'number.json')))).message).toMatch(/number\.json:\n {2}- extends: must be the path of the config this one extends, relative to this file, e\.g\. "\.\/default\.json"; got 3/);
    expect((await failure(loadConfig(join(dir, 'list.json')))).message).toMatch(/list\.json:\n {2}- \(root\): must be a JSON object/);
    for (const file of ['broken.json', 'extends-broken.json']) {
      const broken = await failure(loadConfig(join(dir, file)));
      expect(broken).toBeInstanceOf(MllmError);
      expect(broken.message).toMatch(/broken\.json is not valid JSON: .* at line 3 column 3/);
    }
    expect((await failure(loadConfig(join(dir, 'absent.json')))).message).toMatch(/config .*absent\.json not found/);
  });
});

describe('loadConfig: --set', () => {
  it('sets values by path after every extends: numbers, strings, stage names and indices; null removes', async () => {
    const config = await loadConfig(join(configs, 'cot.json'), {
      set: ['seed=4', 'connector.depth=3', 'stages[2].lr=1e-4', 'stages.instruct.steps=100', 'stages.instruct.chainOfThought.style=tree', 'description=a shorter run', 'stages[0]=null', 'eval.maxNewTokens=null', 'tokenizer.minFrequency=2'],
    });
    const parsed = parseRunConfig(config, createRegistry());
    expect(parsed.seed).toBe(4);
    expect(parsed.connector).toMatchObject({ type: 'mlp', depth: 3 });
    expect(parsed.stages.map((s) => s.type)).toEqual(['pretrain-llm', 'align', 'instruct']);
    expect(parsed.stages[1]!.lr).toBe(1e-4);
    expect(parsed.stages[2]).toMatchObject({ steps: 100, chainOfThought: { share: 0.5, style: 'tree', length: 'fixed' } });
    expect(parsed.eval.maxNewTokens).not.toBe(100);
    expect(parsed.description).toBe('a shorter run');
    expect(parsed.tokenizer.minFrequency).toBe(2);
    // an absent parent object is created: tiny.json leaves the tokenizer to its defaults
    expect(parseRunConfig(await loadConfig(tinyFile, { set: ['tokenizer.minFrequency=3'] }), createRegistry()).tokenizer.minFrequency).toBe(3);
  });

  it('refuses a --set without "=", a malformed path, a stage or index that is not there, a path through a value', async () => {
    const message = async (set: string) => (await failure(loadConfig(defaultFile, { set: [set] }))).message;
    expect(await message('connector.depth')).toMatch(/--set connector\.depth: missing "="; write --set path=value/);
    expect(await message('stages..lr=1')).toMatch(/--set stages\.\.lr=1: "stages\.\.lr" is not a config path/);
    expect(await message('stages.instrct.steps=1')).toMatch(/stages\.instrct: --set stages\.instrct\.steps=1: stages\.instrct names no stage; the stages are: 0-pretrain-encoder/);
    expect(await message('stages[7].lr=1')).toMatch(/stages\[7\]: --set stages\[7\]\.lr=1: stages\.7 is past the end: the list has 5 stage\(s\), 0 to 4/);
    expect(await message('stages[0].objectives[3]=1')).toMatch(/stages\[0\]\.objectives has 1 item\(s\); there is no \[3\]/);
    expect(await message('seed.value=1')).toMatch(/--set seed\.value=1: seed is 0, not an object or a list; set seed itself/);
  });

  it('says which --set gave a value of the wrong type or a field that does not exist', async () => {
    const error = await failure(loadConfig(defaultFile, { set: ['connector.depth=abc', 'stages.instruct.lr=fast'] }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/connector\.depth: --set connector\.depth=abc: .*number/);
    expect(error.message).toMatch(/stages\[3\]\.lr: --set stages\.instruct\.lr=fast: .*number/);
    const misspelt = await failure(loadConfig(defaultFile, { set: ['connector.depht=3'] }));
    expect(misspelt.message).toMatch(/connector\.depht: --set connector\.depht=3: connector\.depht does not exist \(connector has no field "depht"\)/);
    const top = await failure(loadConfig(defaultFile, { set: ['conector.depth=3'] }));
    expect(top.message).toMatch(/conector: --set conector\.depth=3: conector does not exist \(the config has no field "conector"\)/);
    const stage = await failure(loadConfig(defaultFile, { set: ['stages.align.beta=0.2'] }));
    expect(stage.message).toMatch(/stages\[2\]\.beta: --set stages\.align\.beta=0\.2: stages\[2\]\.beta does not exist/);
  });
});

describe('the run folder keeps the resolved config', () => {
  it('config.json is the extended config with --set applied, as parseRunConfig reads it', async () => {
    const dir = folder({ 'short.json': { extends: tinyFile, stages: { 'pretrain-encoder': { steps: 2 }, instruct: { steps: 2 } } } });
    const raw = await loadConfig(join(dir, 'short.json'), { set: ['stages.align.steps=1', 'eval.scenes=2', 'seed=5'] });
    const out = join(dir, 'run');
    await run(raw, { out, logger: silentLogger, baseDir: dir });
    const kept = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(kept).toEqual(JSON.parse(JSON.stringify(parseRunConfig(raw, createRegistry()))));
    expect(kept.stages.map((s: Stage) => s.steps)).toEqual([2, 4, 1, 2]);
    expect(kept.eval.scenes).toBe(2);
    expect(kept.seed).toBe(5);
    expect(kept).not.toHaveProperty('extends');
    expect(kept.description).toBe(JSON.parse(readFileSync(tinyFile, 'utf8')).description);
  });
});
