import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger, type Logger } from '@mllm/core';
import { runReportMarkdown } from './report';
import { run } from './run';
import { CHILD_ENTRY, type ChildRunArgs } from './sweep-jobs';

const configPath = fileURLToPath(new URL('./__fixtures__/resume.json', import.meta.url));
const childEntry = fileURLToPath(CHILD_ENTRY);

/**
 * Runs the config in a child process (as `sweep --jobs` does) that kills itself with SIGKILL
 * right after the mid-stage checkpoint of stage 1, step 10 (MLLM_FAILPOINT, failpoint.ts): an
 * exact point, whatever the machine's load.
 */
async function runAndKill(out: string, at = 'after-checkpoint:1:10', config = configPath): Promise<NodeJS.Signals | null> {
  if (!existsSync(childEntry)) throw new Error('build packages/run first (npm test builds it through nx)');
  const args: ChildRunArgs = { configPath: config, out, mode: 'fresh', backend: 'wasm' };
  const child = spawn(process.execPath, [childEntry, JSON.stringify(args)], { stdio: 'ignore', env: { ...process.env, MLLM_FAILPOINT: at } });
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

const dpoConfigPath = fileURLToPath(new URL('./__fixtures__/resume-dpo.json', import.meta.url));

/** A report with its timings (which no two runs share) set to 0, everything else as written. */
function withoutTimings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimings);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, ['seconds', 'wallSeconds', 'tokensPerSecond', 'throughput'].includes(k) ? 0 : withoutTimings(v)]));
}

/** What a finished run folder says, timings aside: report.json, report.md as rendered from it, metrics, loss curves, file list. */
function finishedFolder(dir: string) {
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  // report.md is the rendering of report.json: then equal reports (timings aside) make equal report.md files
  expect(readFileSync(join(dir, 'report.md'), 'utf8')).toBe(runReportMarkdown(report));
  const files = readdirSync(dir).sort();
  return {
    files,
    report: withoutTimings(report),
    reportMd: runReportMarkdown(withoutTimings(report) as typeof report),
    metrics: withoutTimings(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))),
    curves: files.filter((f) => f.endsWith('.svg')).map((f) => readFileSync(join(dir, f), 'utf8')),
  };
}

describe('exact resume', () => {
  const straight = join(mkdtempSync(join(tmpdir(), 'mllm-exact-')), 'run');
  const config = JSON.parse(readFileSync(dpoConfigPath, 'utf8'));
  let reference: ReturnType<typeof finishedFolder> | undefined;

  it('an uninterrupted run holds its folder: a second run into it is refused while it trains', async () => {
    let second: Promise<unknown> | undefined;
    await run(config, {
      out: straight,
      backend: 'wasm',
      logger: silentLogger,
      onProgress: (e) => {
        if (e.type === 'stage-start' && e.index === 0) second = run(config, { out: straight, force: true, backend: 'wasm', logger: silentLogger }).catch((error: unknown) => error);
      },
    });
    expect(String(await second)).toMatch(new RegExp(`run folder ${straight} is in use by another run: pid ${process.pid}`));
    reference = finishedFolder(straight);
    expect((reference.report as { evals: { after: string }[] }).evals.map((e) => e.after)).toEqual(['1-instruct', '2-dpo']);
  });

  // mid-dpo after a checkpoint (results and evaluations of earlier stages come from it), and
  // mid-instruct with metrics logged past the checkpoint (tokens and MoE routing of the steps before it)
  for (const at of ['after-checkpoint:2:4', 'after-metrics:1:2']) {
    it(`a run killed at ${at} finishes with the report, report.md and metrics of the uninterrupted run`, async () => {
      const killed = join(mkdtempSync(join(tmpdir(), 'mllm-exact-killed-')), 'run');
      expect(await runAndKill(killed, at, dpoConfigPath)).toBe('SIGKILL');
      const warnings: string[] = [];
      const logger: Logger = { info: () => undefined, warn: (m) => warnings.push(m) };
      await run(config, { out: killed, resume: true, backend: 'wasm', logger });
      // the killed child's lock was left behind and is taken over
      expect(warnings.some((w) => w.includes('which is no longer running; taking the lock over'))).toBe(true);
      const resumed = finishedFolder(killed);
      expect(resumed.report).toEqual(reference!.report);
      expect(resumed.reportMd).toBe(reference!.reportMd);
      expect(resumed.metrics).toEqual(reference!.metrics);
      expect(resumed.curves).toEqual(reference!.curves);
      expect(resumed.files).toEqual(reference!.files);
    });
  }
});
