import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, silentLogger } from '@mllm/core';
import { runPipeline } from './pipeline';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));
const fresh = () => join(mkdtempSync(join(tmpdir(), 'mllm-run-')), 'run');

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
    const err = await runPipeline(bad, { out, logger: silentLogger }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const paths = (err as ConfigError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['connector.type', 'llm', 'stages[0].steps', 'stages[1].type']));
    expect((err as Error).message).toMatch(/connector.type: unknown connector type "mlpp"; allowed: [a-z, -]*\bmlp\b/);
    expect((err as Error).message).toMatch(/stages\[1\]\.type: unknown stage type "dance"; allowed: pretrain-encoder, pretrain-llm, align, instruct/);
    expect(existsSync(out)).toBe(false);
    const mismatch = await runPipeline({ ...tiny, data: { ...tiny.data, imageSize: 64 } }, { out, logger: silentLogger }).catch((e) => e);
    expect((mismatch as Error).message).toMatch(/data.imageSize: 64 does not match encoder.imageSize 16/);
  });

  it('does not overwrite an existing run folder without --force', async () => {
    const out = fresh();
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'notes.txt'), 'keep me');
    await expect(runPipeline(tiny, { out, logger: silentLogger })).rejects.toThrow(/already exists and is not empty; pass --force/);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('keep me');
  });

  it('runs every stage, evaluates, and writes the run folder', async () => {
    const out = fresh();
    const report = await runPipeline(tiny, { out, logger: silentLogger });
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
  });

  it('an untrained model (steps: 0) scores at chance', async () => {
    const out = fresh();
    const untrained = { ...tiny, stages: tiny.stages.map((s: object) => ({ ...s, steps: 0 })), eval: { ...tiny.eval, scenes: 10, popePerImage: 6 } };
    const report = await runPipeline(untrained, { out, logger: silentLogger });
    for (const k of ['random', 'popular', 'adversarial'] as const) {
      expect(report.eval!.pope[k].accuracy).toBeGreaterThan(0.3);
      expect(report.eval!.pope[k].accuracy).toBeLessThan(0.7);
    }
    expect(report.eval!.closedSet.accuracy).toBeLessThan(0.35);
  });
});
