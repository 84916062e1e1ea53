import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { MllmError } from '@mllm/core';
import { environmentChanges, matMulThreads, runEnvironment, type RunEnvironment } from './environment';
import { run } from './run';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));

describe('matMulThreads', () => {
  const saved = process.env.MLLM_THREADS;
  afterEach(() => {
    if (saved === undefined) delete process.env.MLLM_THREADS;
    else process.env.MLLM_THREADS = saved;
  });

  it('takes --threads, else MLLM_THREADS, else every core', () => {
    delete process.env.MLLM_THREADS;
    expect(matMulThreads(undefined)).toBe(availableParallelism());
    process.env.MLLM_THREADS = '3';
    expect(matMulThreads(undefined)).toBe(3);
    expect(matMulThreads(5)).toBe(5);
  });

  it('refuses a thread count that is not a whole number >= 1, naming where it came from', () => {
    process.env.MLLM_THREADS = 'two';
    expect(() => matMulThreads(undefined)).toThrow(MllmError);
    expect(() => matMulThreads(undefined)).toThrow(/MLLM_THREADS must be a whole number >= 1 .*got two/);
    expect(() => matMulThreads(0)).toThrow(/--threads must be a whole number >= 1/);
  });
});

describe('runEnvironment', () => {
  it('records the versions installed, read independently from node_modules', () => {
    const env = runEnvironment('wasm (test)', 1);
    const tfjsCore = JSON.parse(readFileSync(new URL('../../../node_modules/@tensorflow/tfjs-core/package.json', import.meta.url), 'utf8'));
    expect(env.versions['@tensorflow/tfjs-core']).toBe(tfjsCore.version);
    expect(env.versions['@mllm/run']).toBe(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
    expect(env.cores).toBe(availableParallelism());
    expect(env.node).toBe(process.version);
    expect(['onnxruntime', 'wasm']).toContain(env.matMul.engine);
  });

  it('lists what changed in the arithmetic, and nothing for the same environment', () => {
    const before: RunEnvironment = runEnvironment('wasm (test)', 1);
    expect(environmentChanges(before, before)).toEqual([]);
    const now: RunEnvironment = { ...before, matMul: { ...before.matMul, threads: before.matMul.threads + 1 }, versions: { ...before.versions, 'onnxruntime-node': '0.0.1' } };
    const changes = environmentChanges(before, now);
    expect(changes).toContain(`matMul threads: ${before.matMul.threads} -> ${before.matMul.threads + 1}`);
    expect(changes).toContain(`onnxruntime-node: ${before.versions['onnxruntime-node'] ?? 'none'} -> 0.0.1`);
    expect(changes).toHaveLength(2);
  });
});

describe('a run records its environment', () => {
  it('in report.json and report.md, and a --resume elsewhere says what changed', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mllm-env-')), 'run');
    const report = await run(tiny, { out, threads: 1, logger: { info: () => {}, warn: () => {} } });
    const stored = JSON.parse(readFileSync(join(out, 'environment.json'), 'utf8')) as RunEnvironment;
    expect(report.environment).toEqual(stored);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/- environment: node v\d+.* matMul on (onnxruntime|wasm) with \d+ thread\(s\), 1 data-parallel participant/);

    // as if the run had started on a machine with 7 matMul threads and another onnxruntime
    writeFileSync(join(out, 'environment.json'), JSON.stringify({ ...stored, matMul: { ...stored.matMul, threads: 7 }, versions: { ...stored.versions, 'onnxruntime-node': '0.0.1' } }));
    const warnings: string[] = [];
    const resumed = await run(tiny, { out, resume: true, threads: 1, logger: { info: () => {}, warn: (m) => warnings.push(m) } });
    expect(resumed.environment?.resumedAcross).toEqual(expect.arrayContaining([`matMul threads: 7 -> ${stored.matMul.threads}`, `onnxruntime-node: 0.0.1 -> ${stored.versions['onnxruntime-node'] ?? 'none'}`]));
    expect(warnings.join('\n')).toMatch(/--resume in another environment .*matMul threads: 7 -> .*pass --threads 7 to match/);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/- resumed in another environment: .*matMul threads: 7/);
  });
});
