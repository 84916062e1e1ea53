import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@mllm/core';
import { run } from './run';
import { CHILD_ENTRY, type ChildRunArgs } from './sweep-jobs';

const configPath = fileURLToPath(new URL('./__fixtures__/resume.json', import.meta.url));
const childEntry = fileURLToPath(CHILD_ENTRY);

/**
 * Runs the config in a child process (as `sweep --jobs` does) that kills itself with SIGKILL
 * right after the mid-stage checkpoint of stage 1, step 10 (MLLM_FAILPOINT, failpoint.ts): an
 * exact point, whatever the machine's load.
 */
async function runAndKill(out: string): Promise<NodeJS.Signals | null> {
  if (!existsSync(childEntry)) throw new Error('build packages/run first (npm test builds it through nx)');
  const args: ChildRunArgs = { configPath, out, mode: 'fresh', backend: 'wasm' };
  const child = spawn(process.execPath, [childEntry, JSON.stringify(args)], { stdio: 'ignore', env: { ...process.env, MLLM_FAILPOINT: 'after-checkpoint:1:10' } });
  return new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
}

describe('--resume', () => {
  it('a run killed in the middle of a stage resumes to the same result as an uninterrupted run', async () => {
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    const straight = join(mkdtempSync(join(tmpdir(), 'mllm-straight-')), 'run');
    const reference = await run(config, { out: straight, logger: silentLogger });

    const killed = join(mkdtempSync(join(tmpdir(), 'mllm-killed-')), 'run');
    expect(await runAndKill(killed)).toBe('SIGKILL');
    expect(JSON.parse(readFileSync(join(killed, 'checkpoint', 'state.json'), 'utf8'))).toMatchObject({ stageIndex: 1, step: 10 });
    expect(existsSync(join(killed, 'report.json'))).toBe(false);
    const resumed = await run(config, { out: killed, resume: true, logger: silentLogger });

    expect(resumed.stages.map((s) => s.finalLoss)).toEqual(reference.stages.map((s) => s.finalLoss));
    const losses = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).loss);
    expect(losses(killed)).toEqual(losses(straight));
    expect(resumed.eval!.pope).toEqual(reference.eval!.pope);
    expect(readFileSync(join(killed, 'model.safetensors')).equals(readFileSync(join(straight, 'model.safetensors')))).toBe(true);
  });
});
