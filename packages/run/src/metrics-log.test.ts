import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MllmError } from '@mllm/core';
import { MetricsLog, type MetricRecord } from './metrics-log';

const record = (stageIndex: number, step: number): MetricRecord => ({ stage: `${stageIndex}-x`, stageIndex, step, loss: step / 10, lr: 0.1, gradNorm: 1, tokens: 8, seconds: 0.5 });
const line = (r: MetricRecord) => JSON.stringify(r) + '\n';

describe('MetricsLog.truncateTo', () => {
  it('keeps the steps before the checkpoint and drops those after it and a line a kill cut off', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'mllm-metrics-')), 'metrics.jsonl');
    const kept = [record(0, 0), record(0, 1), record(1, 0), record(1, 1)];
    writeFileSync(path, [...kept, record(1, 2)].map(line).join('') + line(record(1, 3)).slice(0, 20));
    const log = new MetricsLog(path);
    await log.truncateTo(1, 2);
    expect(readFileSync(path, 'utf8')).toBe(kept.map(line).join(''));
    expect(await log.read()).toEqual(kept);
  });

  it('refuses a damaged line in the middle (not a torn append) instead of dropping records', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'mllm-metrics-')), 'metrics.jsonl');
    writeFileSync(path, line(record(0, 0)) + '{"stage":\n' + line(record(0, 1)));
    await expect(new MetricsLog(path).truncateTo(0, 2)).rejects.toThrow(/metrics\.jsonl: line 2 is not JSON .*train it again with --force/);
  });
});

describe('MetricsLog.append', () => {
  // /dev/full answers every write with ENOSPC: a real full disk, no mock
  it.runIf(existsSync('/dev/full'))('on a full disk, says so and how to continue', async () => {
    const error = await new MetricsLog('/dev/full').append(record(0, 0)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MllmError);
    expect((error as Error).message).toBe('disk full while appending to /dev/full; free space and rerun with --resume (the run continues from its last checkpoint)');
  });
});
