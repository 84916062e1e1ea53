import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors, saveSafetensors } from '@mllm/core';
import { DataParallel, type DataParallelTransport, type WorkerModelSpec } from './data-parallel';
import { runStage } from './run-stage';
import { stageSchema } from './run-config';
import { StageData } from './stage-data';
import { make, tokenizer, valuesOf, world } from './tiny-run.test-helper';
import { bundleWorker } from './dp-worker.test-helper';

// the same model as tiny-run.test-helper's make(), as a worker builds it
const spec: WorkerModelSpec = {
  config: {
    encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 2, heads: 2 },
    connector: { type: 'mlp' },
    llm: { type: 'causal', dim: 32, layers: 1, heads: 2 },
  },
  vocabSize: tokenizer.vocabSize,
  special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad },
  seed: 2,
};
// 7 rows: slices of 4 and 3 rows with different trained-token counts
const instruct = stageSchema.parse({ type: 'instruct', steps: 4, batchSize: 7, lr: 0.01, warmup: 1, evalEvery: 0 });

const execFileAsync = promisify(execFile);
let workerUrl: URL;
let failingUrl: URL;
let open: DataParallel | undefined;
beforeAll(async () => {
  workerUrl = await bundleWorker('dp-worker.ts');
  failingUrl = await bundleWorker('dp-worker-failing.test-helper.ts');
});
afterAll(() => {
  for (const url of [workerUrl, failingUrl]) if (url) rmSync(fileURLToPath(url), { force: true });
});
afterEach(async () => {
  await open?.close();
  open = undefined;
  delete process.env.MLLM_TEST_FAIL_AT;
  delete process.env.MLLM_TEST_EXIT_AT;
});
const start = async (transport: DataParallelTransport, url = workerUrl) => (open = await DataParallel.start({ workers: 2, model: spec, backend: tf.getBackend(), workerUrl: url, transport }));

for (const transport of ['threads', 'processes'] as DataParallelTransport[])
describe(`DataParallel over ${transport}`, () => {
  it('trains to the same losses and weights as one process with the same global batch', async () => {
    const one = make();
    const two = make();
    const single: number[] = [];
    const parallel: number[] = [];
    await runStage(instruct, 3, one, new StageData(world, tokenizer, 9), { onStep: (e) => void single.push(e.loss) });
    const counts: number[][] = [];
    await runStage(instruct, 3, two, new StageData(world, tokenizer, 9), {
      parallel: await start(transport),
      onStep: (e) => {
        parallel.push(e.loss);
        counts.push(open!.workerTensorCounts());
      },
    });
    expect(parallel).toHaveLength(4);
    // onnxruntime-node serves one thread per process: worker threads keep to wasm, child processes get it
    expect(open!.workerMatMulEngines()).toEqual([transport === 'threads' ? 'wasm' : 'onnxruntime']);
    // fp32 summation order differs (two slice sums, then their sum): documented tolerance 1e-5 relative
    parallel.forEach((l, i) => expect(Math.abs(l - single[i]!) / single[i]!).toBeLessThan(1e-5));
    const a = valuesOf(one.trainableParameters());
    const b = valuesOf(two.trainableParameters());
    for (const name of Object.keys(a)) a[name]!.forEach((v, j) => expect(Math.abs(v - b[name]![j]!)).toBeLessThan(1e-4));
    // the worker holds as many tensors after each step as after the first: nothing leaks
    expect(counts[0]![0]).toBeGreaterThan(0);
    expect(new Set(counts.map((c) => c[0])).size).toBe(1);
    one.dispose();
    two.dispose();
  });

  it('fails the run with a clear message when a worker throws, keeping the last checkpoint intact', async () => {
    process.env.MLLM_TEST_FAIL_AT = '3';
    const dir = mkdtempSync(join(tmpdir(), 'mllm-dp-'));
    const m = make();
    let saved: Record<string, number[]> = {};
    try {
      const run = runStage({ ...instruct, steps: 6, checkpointEvery: 2 }, 3, m, new StageData(world, tokenizer, 9), {
        parallel: await start(transport, failingUrl),
        onCheckpoint: async () => {
          await saveSafetensors(join(dir, 'model.safetensors'), m.stateDict());
          saved = valuesOf(m.namedParameters());
        },
      });
      const error = (await run.then(() => undefined, (e: unknown) => e)) as Error;
      // one line for the user; the worker's stack is kept as the cause, for --debug
      expect(error.message).toMatch(/^data-parallel worker 1 failed: Error: injected failure at step 3\. The run stopped; .*--workers 1\.$/);
      expect((error.cause as Error).stack).toMatch(/injected failure at step 3\n\s+at /);
      const { tensors } = await loadSafetensors(join(dir, 'model.safetensors'));
      expect(valuesOf(Object.entries(tensors))).toEqual(saved);
      expect(Object.keys(saved).length).toBeGreaterThan(0);
    } finally {
      m.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails, not hangs, when a worker exits in the middle of a step', async () => {
    process.env.MLLM_TEST_EXIT_AT = '1';
    const m = make();
    const run = runStage(instruct, 3, m, new StageData(world, tokenizer, 9), { parallel: await start(transport, failingUrl) });
    await expect(run).rejects.toThrow(/data-parallel worker 1 failed: exited with code 3/);
    m.dispose();
  });

  it('closes its workers and lets a program end (no unsettled await)', async () => {
    const program = await bundleWorker('dp-close.test-helper.ts');
    try {
      const { stdout } = await execFileAsync(process.execPath, [fileURLToPath(program)], { env: { ...process.env, MLLM_TEST_WORKER_URL: workerUrl.href, MLLM_TEST_TRANSPORT: transport } });
      expect(stdout.trim()).toBe('closed');
    } finally {
      rmSync(fileURLToPath(program), { force: true });
    }
  });

  it('refuses fewer than 2 participants', async () => {
    await expect(DataParallel.start({ workers: 1, model: spec, backend: 'wasm' })).rejects.toThrow(/at least 2 workers/);
  });
});
