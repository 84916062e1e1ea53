import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, silentLogger } from '@mllm/core';
import { parseRunConfig } from '@mllm/training';
import { createRegistry } from './registry';
import { run } from './run';
import { checkSizeLimits } from './size-limits';
import { estimateRunSize } from './size-estimate';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));

/** A Llama-shaped LLM of 2048 wide layers (~45M parameters each): 12 of them are ~550M parameters, 2.2 GB as float32 weights, 8.8 GB to train whole. */
const bigLlm = (layers: number) => ({ type: 'causal', dim: 2048, layers, heads: 16, kvHeads: 4, mlpHidden: 5632 });
const stageOf = (type: string, extra: object = {}) => ({ type, steps: 1, batchSize: 1, evalEvery: 0, checkpointEvery: 0, ...extra });
const config = (layers: number, stages: object[]) => ({ ...tiny, llm: bigLlm(layers), data: { train: 8, val: 2, test: 2 }, stages, eval: { ...tiny.eval, batchSize: 1 } });

async function refusal(raw: unknown): Promise<{ error: ConfigError; created: boolean; tensors: number }> {
  const out = join(mkdtempSync(join(tmpdir(), 'mllm-ceiling-')), 'run');
  const before = tf.memory().numTensors;
  const error = await run(raw, { out, logger: silentLogger, backend: 'wasm' }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return { error: error as ConfigError, created: existsSync(out), tensors: tf.memory().numTensors - before };
}

describe('the memory ceiling of a stage', () => {
  it('counts frozen weights at 4 bytes and trained ones at 16: align fits where full instruct does not, and LoRA fits again', () => {
    const registry = createRegistry();
    const parsed = parseRunConfig(config(12, [stageOf('align'), stageOf('instruct'), stageOf('instruct', { lora: { rank: 8 } })]), registry);
    const estimate = estimateRunSize(parsed, registry);
    const [align, full, lora] = estimate.batches;
    const total = estimate.totalParameters!;
    expect(align!.parameterBytes).toBe(4 * total + 4 * estimate.parameters.connector!); // weights, and the gradients of what it trains
    expect(full!.parameterBytes).toBe(4 * total + 4 * (estimate.parameters.connector! + estimate.parameters.llm!));
    expect(full!.optimizerBytes).toBe(8 * (estimate.parameters.connector! + estimate.parameters.llm!)); // AdamW's moments
    // LoRA's adapters: rank 8 on q, k, v, o of 12 layers, each counted 2 x 2048 wide
    expect(lora!.trainedParameters).toBe(estimate.parameters.connector! + 12 * 4 * 8 * 2 * 2048);
    expect(full!.remedies).toEqual(['lora', 'freeze']);
    expect(lora!.remedies).toEqual(['freeze']);
    expect(align!.remedies).toEqual([]);
    // the frozen encoder is cached, so align keeps no encoder activations for a backward pass
    expect(align!.cacheBytes).toBeGreaterThan(0);
    const uncached = estimateRunSize(parseRunConfig(config(12, [stageOf('align', { featureCacheBytes: 0 })]), registry), registry).batches[0]!;
    expect(uncached.activationBytes).toBeGreaterThan(align!.activationBytes);
    expect(uncached.cacheBytes).toBe(0);
  });

  it('refuses a full instruct stage over the wasm heap before anything is allocated, naming the limit and the ways out', async () => {
    const { error, created, tensors } = await refusal(config(12, [stageOf('align'), stageOf('instruct')]));
    expect(error.issues.map((i) => i.path)).toEqual(['stages[1].batchSize']); // align, at 4 bytes a frozen weight, fits
    const message = error.issues[0]!.message;
    expect(message).toMatch(/over the 4\.0 GiB of the wasm backend's 4 GiB heap/);
    expect(message).toContain('train the LLM through LoRA ("lora": { "rank": 8 } on stages[1]');
    expect(message).toContain('train fewer modules (stages[1].trains');
    expect(message).toContain('use a smaller model');
    expect(message).toContain('@tensorflow/tfjs-node');
    expect(created).toBe(false);
    expect(tensors).toBe(0);
  });

  it('lets the same stage through with LoRA, and a native backend\'s larger limit through without it', () => {
    const registry = createRegistry();
    const lora = parseRunConfig(config(12, [stageOf('align'), stageOf('instruct', { lora: { rank: 8 } })]), registry);
    expect(() => checkSizeLimits(lora, registry, { backend: 'wasm' })).not.toThrow();
    const full = parseRunConfig(config(12, [stageOf('instruct')]), registry);
    expect(() => checkSizeLimits({ ...full, limits: { memoryBytes: 24 * 1024 ** 3 } }, registry, { backend: 'wasm' })).not.toThrow();
  });
});
