import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, silentLogger } from '@mllm/core';
import { assertSameConfig, run } from './run';
import { createRegistry } from './registry';
import { parseRunConfig } from '@mllm/training';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));
const fresh = () => join(mkdtempSync(join(tmpdir(), 'mllm-run-')), 'run');

describe('--resume config check', () => {
  const registry = createRegistry();
  const current = JSON.stringify(parseRunConfig(tiny, registry), null, 2);
  const stored = (config: unknown) => {
    const path = join(mkdtempSync(join(tmpdir(), 'mllm-cfg-')), 'config.json');
    writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
    return path;
  };

  it('accepts a config written before a field with a default existed', async () => {
    const older = JSON.parse(current);
    for (const stage of older.stages) delete stage.warmup; // as if warmup had been added later with its default
    await expect(assertSameConfig(stored(older), current, registry)).resolves.toBeUndefined();
  });

  it('refuses a changed config and an unreadable one', async () => {
    const changed = JSON.parse(current);
    changed.stages[0].steps += 1;
    await expect(assertSameConfig(stored(changed), current, registry)).rejects.toThrow(/config differs/);
    await expect(assertSameConfig(stored('{ not json'), current, registry)).rejects.toThrow(/config differs/);
  });

  it('accepts a reworded description: prose does not change what a run trains', async () => {
    const reworded = { ...JSON.parse(current), description: 'the same run, described anew' };
    await expect(assertSameConfig(stored(reworded), current, registry)).resolves.toBeUndefined();
  });
});

describe('mllm run', () => {
  it('reports every config error with its JSON path before creating anything', async () => {
    const out = fresh();
    const bad = {
      ...tiny,
      connector: { type: 'mlpp' },
      llm: { ...tiny.llm, colour: 'red' },
      data: { ...tiny.data, imageSize: 64 },
      stages: [{ type: 'align', steps: 'ten' }, { type: 'dance', steps: 1 }],
    };
    const err = await run(bad, { out, logger: silentLogger }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const paths = (err as ConfigError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['connector.type', 'llm', 'stages[0].steps', 'stages[1].type']));
    expect((err as Error).message).toMatch(/connector.type: unknown connector type "mlpp"; allowed: [a-z, -]*\bmlp\b/);
    expect((err as Error).message).toMatch(/stages\[1\]\.type: unknown stage type "dance"; allowed: pretrain-encoder, pretrain-llm, align, instruct/);
    expect(existsSync(out)).toBe(false);
    const mismatch = await run({ ...tiny, data: { ...tiny.data, imageSize: 64 } }, { out, logger: silentLogger }).catch((e) => e);
    expect((mismatch as Error).message).toMatch(/data.imageSize: 64 does not match encoder.imageSize 16/);
    // with a high-resolution encoder the world renders at its input size, which data.imageSize must then equal
    const highRes = { ...tiny.encoder, highRes: { strategy: 'tiles', inputSize: tiny.encoder.imageSize * 2 } };
    const tiled = await run({ ...tiny, encoder: highRes, data: { ...tiny.data, imageSize: tiny.encoder.imageSize } }, { out, logger: silentLogger }).catch((e) => e);
    expect((tiled as Error).message).toMatch(/data.imageSize: 16 does not match encoder.highRes.inputSize 32/);
    expect(() => parseRunConfig({ ...tiny, encoder: highRes, data: { ...tiny.data, imageSize: 32 } }, createRegistry())).not.toThrow();
  });

  it('does not overwrite an existing run folder without --force', async () => {
    const out = fresh();
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'notes.txt'), 'keep me');
    await expect(run(tiny, { out, logger: silentLogger })).rejects.toThrow(/already exists and is not empty; pass --force/);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('keep me');
  });

  it('runs every stage, evaluates, and writes the run folder', async () => {
    const out = fresh();
    const report = await run(tiny, { out, logger: silentLogger });
    for (const f of ['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'metrics.jsonl', 'report.json', 'report.md', 'loss-3-instruct.svg'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(json.backend).toMatch(/wasm/);
    expect(json.stages.map((s: { name: string }) => s.name)).toEqual(['0-pretrain-encoder', '1-pretrain-llm', '2-align', '3-instruct']);
    for (const s of json.stages) expect(Number.isFinite(s.finalLoss)).toBe(true);
    for (const k of ['random', 'popular', 'adversarial']) expect(Object.keys(json.eval.pope[k])).toEqual(expect.arrayContaining(['accuracy', 'precision', 'recall', 'f1', 'yesRatio']));
    expect(json.eval.chair).toHaveProperty('chairI');
    expect(json.eval.closedSet).toHaveProperty('byType');
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBe(4 + 4 + 4 + 6);
    expect(report.stages[3]!.steps).toBe(6);
    // each stage's speed and memory, and what the size check estimated for it
    for (const [i, s] of json.stages.entries()) {
      expect(s.throughput.steps).toBe(tiny.stages[i].steps);
      expect(s.throughput.secondsPerStep).toBeGreaterThan(0);
      expect(s.throughput.tokensPerSecond).toBeGreaterThan(0);
      expect(s.throughput.peakRssBytes).toBeGreaterThan(s.throughput.peakTensorBytes);
      expect(s.throughput.wasmHeapBytes).toBeGreaterThan(0);
    }
    expect(json.stages[0].throughput.imagesPerSecond).toBeGreaterThan(0); // contrastive pairs
    expect(json.stages[1].throughput.imagesPerSecond).toBe(0); // text only
    expect(json.stages[2].throughput.featureCache.misses).toBeGreaterThan(0); // align: the encoder is frozen
    expect(json.stages[0].throughput.featureCache).toBeUndefined(); // it trains there
    expect(json.memoryEstimate.stages.map((e: { path: string }) => e.path)).toEqual(['stages[0].batchSize', 'stages[1].batchSize', 'stages[2].batchSize', 'stages[3].batchSize', 'eval.batchSize']);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/## Speed and memory\n[^]*\| 2-align \| connector \| [\d.]+ \| [\d.]+ \|/);
  });

  it('an untrained model (steps: 0) scores at chance', async () => {
    const out = fresh();
    const untrained = { ...tiny, stages: tiny.stages.map((s: object) => ({ ...s, steps: 0 })), eval: { ...tiny.eval, scenes: 10, popePerImage: 6 } };
    const report = await run(untrained, { out, logger: silentLogger });
    for (const k of ['random', 'popular', 'adversarial'] as const) {
      expect(report.eval!.pope[k].accuracy).toBeGreaterThan(0.3);
      expect(report.eval!.pope[k].accuracy).toBeLessThan(0.7);
    }
    expect(report.eval!.closedSet.accuracy).toBeLessThan(0.35);
  });

  it('a dpo stage reports metrics after instruct and after dpo side by side; an alignment stage without a policy is a config error', async () => {
    const out = fresh();
    const withDpo = { ...tiny, stages: [...tiny.stages, { type: 'dpo', steps: 4, batchSize: 4, checkpointEvery: 2, evalEvery: 2, sftWeight: 1 }] };
    const report = await run(withDpo, { out, logger: silentLogger });
    expect(report.evals!.map((e) => e.after)).toEqual(['3-instruct', '4-dpo']);
    expect(report.eval).toEqual(report.evals![1]!.eval);
    expect(report.stages[4]!.heldOut).toHaveProperty('rewardAccuracy');
    const dpoLines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.stage === '4-dpo');
    expect(Object.keys(dpoLines[0].stats)).toEqual(expect.arrayContaining(['chosenReward', 'rejectedReward', 'margin', 'accuracy']));
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/after 3-instruct \| after 4-dpo/);

    const noPolicy = { ...tiny, stages: [tiny.stages[0], { type: 'dpo', steps: 1 }, { type: 'ppo', steps: 1 }] };
    const err = await run(noPolicy, { out: fresh(), logger: silentLogger }).catch((e) => e);
    expect((err as Error).message).toMatch(/stages\[1\]\.type: a dpo stage needs a trained policy to start from; put an "instruct" stage before it/);
    expect((err as Error).message).toMatch(/stages\[2\]\.type: a ppo stage scores its samples with a reward model; put a "reward" stage before it/);

    const lastPooled = { ...tiny, stages: [...tiny.stages, { type: 'reward', steps: 1 }, { type: 'ppo', steps: 1, credit: 'token' }] };
    const creditErr = await run(lastPooled, { out: fresh(), logger: silentLogger }).catch((e) => e);
    expect((creditErr as Error).message).toMatch(/stages\[5\]\.credit: "token" credit splits a mean-pooled score over the answer; set the reward stage's pooling to "mean", "likelihood" or "ratio"/);
  });

  it.each([
    ['a scalar head', {}, {}],
    ["DPO's implicit reward (its frozen reference saved with it)", { pooling: 'ratio' }, { credit: 'token' }],
  ])('reward then ppo with %s: the reward model is saved, and a run resumed after the reward stage loads it for ppo', async (_, reward, ppo) => {
    const out = fresh();
    const rlhf = { ...tiny, stages: [...tiny.stages, { type: 'reward', steps: 4, batchSize: 4, evalEvery: 2, ...reward }, { type: 'ppo', steps: 4, epochs: 2, batchSize: 4, maxNewTokens: 6, checkpointEvery: 2, evalEvery: 2, ...ppo }] };
    const stop = new Error('interrupted');
    // stop right after the reward stage's checkpoint, so ppo must read the reward model from disk
    const stopAfterReward = { ...silentLogger, info: (m: string) => { if (m.startsWith('stage 4-reward')) throw stop; } };
    await expect(run(rlhf, { out, logger: stopAfterReward })).rejects.toBe(stop);
    expect(existsSync(join(out, 'reward-model.safetensors'))).toBe(true);
    const report = await run(rlhf, { out, resume: true, logger: silentLogger });
    expect(report.evals!.map((e) => e.after)).toEqual(['3-instruct', '5-ppo']);
    expect(report.stages[4]!.heldOut).toHaveProperty('rewardAccuracy');
    const ppoLines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.stage === '5-ppo');
    expect(Object.keys(ppoLines[0].stats)).toEqual(expect.arrayContaining(['score', 'kl', 'klCoef', 'clipFraction', 'valueLoss']));
  });
});
