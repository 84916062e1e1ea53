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

/** Starts the run in a child process (as `sweep --jobs` does) and SIGKILLs it once a mid-stage checkpoint of stage 1 exists. */
async function runAndKill(out: string): Promise<number> {
  if (!existsSync(childEntry)) throw new Error('build packages/run first (npm test builds it through nx)');
  const args: ChildRunArgs = { configPath, out, mode: 'fresh', backend: 'wasm' };
  const child = spawn(process.execPath, [childEntry, JSON.stringify(args)], { stdio: 'ignore' });
  const statePath = join(out, 'checkpoint', 'state.json');
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      try {
        const state = JSON.parse(readFileSync(statePath, 'utf8'));
        if (state.stageIndex === 1 && state.step >= 10) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve(state.step);
        }
      } catch {
        // not written yet
      }
    }, 20);
    child.on('exit', () => {
      clearInterval(timer);
      reject(new Error('the run finished before it could be killed; lengthen the fixture stage'));
    });
  });
}

describe('--resume', () => {
  it('a run killed in the middle of a stage resumes to the same result as an uninterrupted run', async () => {
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    const straight = join(mkdtempSync(join(tmpdir(), 'mllm-straight-')), 'run');
    const reference = await run(config, { out: straight, logger: silentLogger });

    const killed = join(mkdtempSync(join(tmpdir(), 'mllm-killed-')), 'run');
    const stoppedAt = await runAndKill(killed);
    expect(stoppedAt).toBeLessThan(60);
    expect(existsSync(join(killed, 'report.json'))).toBe(false);
    const resumed = await run(config, { out: killed, resume: true, logger: silentLogger });

    expect(resumed.stages.map((s) => s.finalLoss)).toEqual(reference.stages.map((s) => s.finalLoss));
    const losses = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).loss);
    expect(losses(killed)).toEqual(losses(straight));
    expect(resumed.eval!.pope).toEqual(reference.eval!.pope);
    expect(readFileSync(join(killed, 'model.safetensors')).equals(readFileSync(join(straight, 'model.safetensors')))).toBe(true);
  });
});
