import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, ConfigError, saveSafetensors } from '@mllm/core';
import { parseRunConfig } from '@mllm/training';
import { openRun } from './open-run';
import { createRegistry } from './registry';
import { createSession } from './session';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));

/** A run folder as `run` leaves one (config.json, tokenizer, model.safetensors), untrained: opening it needs no more. */
async function runFolder(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'open-run-limits-'));
  const config = parseRunConfig(tiny, createRegistry());
  const session = createSession(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  await session.tokenizer.save(dir);
  await saveSafetensors(join(dir, 'model.safetensors'), session.model.stateDict(), { format: 'pt' });
  session.model.dispose();
  return dir;
}

function editConfig(dir: string, edit: (config: Record<string, any>) => void): void {
  const path = join(dir, 'config.json');
  const config = JSON.parse(readFileSync(path, 'utf8'));
  edit(config);
  writeFileSync(path, JSON.stringify(config));
}

/** What openRun throws for `dir`, checking that it allocated no tensor before refusing. */
async function refusal(dir: string): Promise<Error> {
  const tensors = tf.memory().numTensors;
  const error = await openRun(dir).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  expect(tf.memory().numTensors).toBe(tensors);
  return error as Error;
}

describe("a run folder's edited config.json or tampered weights", () => {
  it('opens as written', async () => {
    const opened = await openRun(await runFolder());
    expect(opened.model.numParameters()).toBeGreaterThan(0);
    opened.dispose();
  });

  it('is refused before a model is built: a wider LLM than the weights, absurd layers, a huge batch, appended bytes', async () => {
    const wider = await runFolder();
    editConfig(wider, (c) => (c.llm.dim = 32));
    const error = await refusal(wider); // refused from the header: nothing allocated
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toMatch(/model\.safetensors: holds \d+ parameters in \d+ tensors, but config\.json next to it describes a model of \d+ .*restore the config\.json the run wrote/);

    const deep = await runFolder();
    editConfig(deep, (c) => (c.llm.layers = 1e9));
    const tooDeep = await refusal(deep);
    expect(tooDeep).toBeInstanceOf(ConfigError);
    expect((tooDeep as ConfigError).issues.map((i) => i.path)).toEqual(['llm']);

    const batch = await runFolder();
    editConfig(batch, (c) => (c.eval.batchSize = 1e7));
    expect(((await refusal(batch)) as ConfigError).issues.map((i) => i.path)).toEqual(['eval.batchSize']);

    const unknownField = await runFolder();
    editConfig(unknownField, (c) => (c.llm.colour = 'red'));
    expect(((await refusal(unknownField)) as ConfigError).issues.map((i) => i.path)).toEqual(['llm']);

    const appended = await runFolder();
    const weights = join(appended, 'model.safetensors');
    writeFileSync(weights, Buffer.concat([readFileSync(weights), Buffer.from('junk')]));
    expect((await refusal(appended)).message).toMatch(/model\.safetensors: 4 bytes follow the last tensor/);
  });
});
