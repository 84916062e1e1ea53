import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@mllm/core';
import { runPipeline } from './pipeline';

const configPath = fileURLToPath(new URL('./__fixtures__/resume.json', import.meta.url));
const bin = fileURLToPath(new URL('../bin/mllm.js', import.meta.url));

/** Starts `mllm run` in a child process and SIGKILLs it once a mid-stage checkpoint of stage 1 exists. */
async function runAndKill(out: string): Promise<number> {
  if (!existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)))) throw new Error('build apps/cli first (npm test builds it through nx)');
  const child = spawn(process.execPath, [bin, 'run', configPath, '--out', out, '--backend', 'wasm'], { stdio: 'ignore' });
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
    const reference = await runPipeline(config, { out: straight, logger: silentLogger });

    const killed = join(mkdtempSync(join(tmpdir(), 'mllm-killed-')), 'run');
    const stoppedAt = await runAndKill(killed);
    expect(stoppedAt).toBeLessThan(60);
    expect(existsSync(join(killed, 'report.json'))).toBe(false);
    const resumed = await runPipeline(config, { out: killed, resume: true, logger: silentLogger });

    expect(resumed.stages.map((s) => s.finalLoss)).toEqual(reference.stages.map((s) => s.finalLoss));
    const losses = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).loss);
    expect(losses(killed)).toEqual(losses(straight));
    expect(resumed.eval!.pope).toEqual(reference.eval!.pope);
    expect(readFileSync(join(killed, 'model.safetensors')).equals(readFileSync(join(straight, 'model.safetensors')))).toBe(true);
  });
});
