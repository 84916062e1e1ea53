import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, silentLogger } from '@mllm/core';
import { parseRunConfig } from '@mllm/training';
import { createRegistry } from './registry';
import { loadConfig } from './config-load';
import { run } from './run';
import { sweep } from './sweep';
import { checkSizeLimits, sizeLimits, WASM_HEAP_BYTES } from './size-limits';
import { estimateRunSize } from './size-estimate';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));
const fresh = () => join(mkdtempSync(join(tmpdir(), 'mllm-limits-')), 'run');

/** The ConfigError `run` throws for `config`, and whether it left the run folder untouched. */
async function refusal(config: unknown): Promise<{ error: ConfigError; created: boolean }> {
  const out = fresh();
  const error = await run(config, { out, logger: silentLogger, backend: 'wasm' }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return { error: error as ConfigError, created: existsSync(out) };
}

describe('size limits', () => {
  it('derive from the machine: the wasm heap on wasm, configurable with limits', () => {
    const wasm = sizeLimits({}, 'wasm');
    expect(wasm.memoryBytes).toBeLessThanOrEqual(WASM_HEAP_BYTES);
    expect(wasm.parameters).toBe(Math.floor(wasm.memoryBytes / 4)); // float32 weights; each stage adds what it trains
    const set = sizeLimits({ limits: { memoryBytes: 1e12, parameters: 5 } }, 'wasm');
    expect(set).toMatchObject({ memoryBytes: 1e12, parameters: 5, memorySource: 'limits.memoryBytes', parametersSource: 'limits.parameters' });
  });

  it('accept the shipped tiny config and refuse it once a limit is lowered under its size, naming the limit and how to raise it', () => {
    const registry = createRegistry();
    const config = parseRunConfig(tiny, registry);
    const estimate = checkSizeLimits(config, registry, { backend: 'wasm' });
    const total = estimate.totalParameters!;
    expect(() => checkSizeLimits({ ...config, limits: { parameters: total } }, registry, { backend: 'wasm' })).not.toThrow();
    const error = (() => {
      try {
        checkSizeLimits({ ...config, limits: { parameters: total - 1 } }, registry, { backend: 'wasm' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.issues).toHaveLength(1);
    expect(error!.issues[0]!.path).toBe(['encoder', 'connector', 'llm'].reduce((a, b) => (estimate.parameters[b as 'llm']! > estimate.parameters[a as 'llm']! ? b : a)));
    expect(error!.message).toContain(`over the limit of ${total - 1} parameters (limits.parameters)`);
    expect(error!.message).toContain('--set limits.parameters=N');
  });

  it('refuse a batch whose activations pass the memory limit at the batch path, and say which batch fits', () => {
    const registry = createRegistry();
    const config = parseRunConfig(tiny, registry);
    const estimate = estimateRunSize(config, registry);
    const instruct = estimate.batches[3]!; // batch 8
    const fixed = instruct.parameterBytes + instruct.cacheBytes + estimate.dataBytes;
    const perSample = instruct.activationBytes / 8;
    const memoryBytes = fixed + perSample * 5.5; // room for 5 samples of it
    const error = (() => {
      try {
        checkSizeLimits({ ...config, limits: { memoryBytes } }, registry);
      } catch (e) {
        return e as ConfigError;
      }
    })();
    const paths = error!.issues.map((i) => i.path);
    expect(paths).toContain('stages[3].batchSize');
    expect(paths).toContain('eval.batchSize'); // 32 prompts at once, without backward: also over
    expect(error!.issues.find((i) => i.path === 'stages[3].batchSize')!.message).toMatch(/batch 8 needs about .* use a batch of at most 5; .*; or raise the limit with "limits": \{ "memoryBytes": N \}/);
  });
});

describe('every shipped config fits the limits of the wasm backend', () => {
  const dir = new URL('../../../configs/', import.meta.url);
  const names = readdirSync(dir, { recursive: true })
    .map(String)
    .filter((n) => n.endsWith('.json') && n !== 'mllm.schema.json')
    // sized by the HF folders they read (models/, written or downloaded by the user, not in the
    // repository): released checkpoints are over the wasm heap, and the run's ceiling says so
    .filter((n) => !n.startsWith('hf-llava-'));
  it.each(names)('%s', async (name) => {
    const registry = createRegistry();
    const config = parseRunConfig(await loadConfig(new URL(name, dir).pathname), registry);
    const estimate = checkSizeLimits(config, registry, { backend: 'wasm' });
    expect(estimate.totalParameters).toBeGreaterThan(0);
  });
});

describe('run refuses absurd sizes with a config error, before the run folder exists', () => {
  const cases: [string, unknown, RegExp][] = [
    ['batch 1e7 in stage 0', { ...tiny, stages: [{ ...tiny.stages[0], batchSize: 1e7 }, ...tiny.stages.slice(1)] }, /^stages\[0\]\.batchSize$/],
    ['data.val 2^31', { ...tiny, data: { ...tiny.data, val: 2 ** 31 } }, /^data\.val$/],
    ['llm.layers 1e9', { ...tiny, llm: { ...tiny.llm, layers: 1e9 } }, /^llm$/],
    ['encoder.layers 1e7', { ...tiny, encoder: { ...tiny.encoder, layers: 1e7 } }, /^encoder$/],
    ['llm.dim 1e9', { ...tiny, llm: { ...tiny.llm, dim: 1e9 } }, /^llm$/],
    ['connector depth 1e8', { ...tiny, connector: { type: 'mlp', depth: 1e8 } }, /^connector$/],
    ['eval.batchSize 1e7', { ...tiny, eval: { ...tiny.eval, batchSize: 1e7 } }, /^eval\.batchSize$/],
  ];
  for (const [name, config, path] of cases) {
    it(name, async () => {
      const { error, created } = await refusal(config);
      expect(error.issues.map((i) => i.path)).toEqual([expect.stringMatching(path)]);
      expect(created).toBe(false);
    });
  }

  it('a huge batch in the last stage is refused before the first stage trains', async () => {
    const last = tiny.stages.length - 1;
    const { error, created } = await refusal({ ...tiny, stages: tiny.stages.map((s: object, i: number) => (i === last ? { ...s, batchSize: 1e7 } : s)) });
    expect(error.issues.map((i) => i.path)).toEqual([`stages[${last}].batchSize`]);
    expect(error.message).toMatch(/batch 10000000 needs about .* over the .* of (the wasm backend's 4 GiB heap|half of this machine's)/);
    expect(created).toBe(false);
  });
});

describe('sweep', () => {
  it('refuses a config too large for the limits before the first run trains or the sweep folder exists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mllm-limits-sweep-'));
    const small = join(dir, 'small.json');
    const large = join(dir, 'large.json');
    writeFileSync(small, JSON.stringify(tiny));
    writeFileSync(large, JSON.stringify({ ...tiny, stages: tiny.stages.map((s: object, i: number) => (i === 2 ? { ...s, batchSize: 1e7 } : s)) }));
    const out = join(dir, 'sweep');
    const error = await sweep([small, large], { out, seeds: 1, logger: silentLogger, backend: 'wasm' }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/large\.json: Config too large for the limits:\n {2}- stages\[2\]\.batchSize: batch 10000000 needs about/);
    expect(existsSync(out)).toBe(false);
  });
});
