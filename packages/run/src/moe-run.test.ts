import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@mllm/core';
import { run } from './run';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));

describe('a run with an MoE LLM', () => {
  it('logs per-expert utilisation per step and reports each LLM stage final utilisation', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mllm-moe-')), 'run');
    const config = { ...tiny, llm: { ...tiny.llm, ffn: { type: 'moe', experts: 4, topK: 2, capacityFactor: 1 } } };
    await run(config, { out, logger: silentLogger });
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const byName = Object.fromEntries(report.stages.map((s: { name: string }) => [s.name, s]));
    expect(byName['0-pretrain-encoder'].moe).toBeUndefined(); // the LLM does not run
    for (const name of ['1-pretrain-llm', '2-align', '3-instruct']) {
      const u: number[] = byName[name].moe.expertUtilisation;
      expect(u).toHaveLength(4);
      expect(u.reduce((a, c) => a + c, 0)).toBeCloseTo(1, 5);
      expect(byName[name].moe.dropped).toBeGreaterThanOrEqual(0);
    }
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const instruct = lines.filter((l) => l.stage === '3-instruct');
    for (const l of instruct) expect(Object.keys(l.stats)).toEqual(expect.arrayContaining(['moe/expert_0', 'moe/expert_3', 'moe/dropped', 'moe/balance_loss']));
    expect(lines.filter((l) => l.stage === '0-pretrain-encoder').every((l) => !l.stats)).toBe(true);
  });
});
