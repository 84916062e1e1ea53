import { describe, it, expect } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@mllm/core';
import { sweep as runSweep, spread, sweepMarkdown } from './sweep';
import { runInChild, runPool } from './sweep-jobs';

const tinyPath = new URL('../../../configs/tiny.json', import.meta.url).pathname;
const tiny = JSON.parse(readFileSync(tinyPath, 'utf8')) as Record<string, unknown>;

describe('mllm sweep', () => {
  it('spread is the mean and the sample standard deviation', () => {
    expect(spread([1, 2, 3, 6])).toEqual({ mean: 3, std: Math.sqrt(14 / 3) });
    expect(spread([0.5])).toEqual({ mean: 0.5, std: 0 });
  });

  it('trains every config with the same seeds and writes one comparable table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mllm-sweep-'));
    const linearPath = join(dir, 'tiny-linear.json');
    writeFileSync(linearPath, JSON.stringify({ ...tiny, connector: { type: 'linear' } }));
    const out = join(dir, 'out');
    const rows = await runSweep([tinyPath, linearPath], { out, seeds: 2, logger: silentLogger });

    expect(rows.map((r) => [r.name, r.connector])).toEqual([['tiny', 'mlp'], ['tiny-linear', 'linear']]);
    for (const r of rows) {
      expect(r.runs.map((d) => d.replace(/^.*\//, ''))).toEqual([`${r.name}-seed0`, `${r.name}-seed1`]);
      for (const d of r.runs) expect(JSON.parse(readFileSync(join(d, 'report.json'), 'utf8')).seed).toBe(Number(d.at(-1)));
      expect(r.visualTokens).toBe(4);
      expect(r.trainableParameters).toBeGreaterThan(0);
    }
    // The linear projector has one layer where the MLP has two: fewer parameters, same data.
    expect(rows[1]!.totalParameters).toBeLessThan(rows[0]!.totalParameters);
    // Each row's numbers are the seeds' own reports, averaged.
    const reports = rows[0]!.runs.map((d) => JSON.parse(readFileSync(join(d, 'report.json'), 'utf8')));
    expect(rows[0]!.closedSet.mean).toBeCloseTo((reports[0].eval.closedSet.accuracy + reports[1].eval.closedSet.accuracy) / 2, 10);

    const md = readFileSync(join(out, 'sweep.md'), 'utf8');
    expect(md).toContain('2 configs x 2 seeds (0, 1)');
    expect(md.split('\n').filter((l) => /^\| tiny(-linear)? \| (mlp|linear) \|/.test(l))).toHaveLength(2);
    // the other report sections (here the open-set FaithScore every run has) follow, one line per config and metric
    expect(md).toMatch(/\| tiny-linear \| openSet\.faithScore\.score \| \d\.\d{3} ± \d\.\d{3} \|/);
    expect(md).toMatch(/\| tiny-linear \| linear \| \d+ \(\d+\) \| 4 \|/);
    expect(JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')).rows).toHaveLength(2);
    const svg = readFileSync(join(out, 'sweep-val-loss.svg'), 'utf8');
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(sweepMarkdown(rows, 2)).toBe(md);
  });

  it('--resume reuses finished runs of the same config and seed, and refuses a folder of another config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mllm-sweep-resume-'));
    const out = join(dir, 'out');
    const first = await runSweep([tinyPath], { out, seeds: 1, logger: silentLogger });
    const seed0Report = readFileSync(join(out, 'tiny-seed0', 'report.json'), 'utf8');
    const lines: string[] = [];
    const logger = { ...silentLogger, info: (m: string) => lines.push(m) };
    const rows = await runSweep([tinyPath], { out, seeds: 2, resume: true, logger });
    expect(lines.filter((l) => l.startsWith('sweep:'))).toEqual([
      `sweep: tiny seed 0 finished before in ${join(out, 'tiny-seed0')}; its report is reused`,
      `sweep: tiny seed 1 -> ${join(out, 'tiny-seed1')}`,
    ]);
    expect(readFileSync(join(out, 'tiny-seed0', 'report.json'), 'utf8')).toBe(seed0Report);
    expect(rows[0]!.runs).toHaveLength(2);
    const seed0 = JSON.parse(seed0Report);
    const seed1 = JSON.parse(readFileSync(join(out, 'tiny-seed1', 'report.json'), 'utf8'));
    expect(rows[0]!.closedSet.mean).toBeCloseTo((seed0.eval.closedSet.accuracy + seed1.eval.closedSet.accuracy) / 2, 10);
    expect(first[0]!.closedSet.mean).toBe(seed0.eval.closedSet.accuracy);

    // the same folder name for a config that differs: the finished run is not silently reused
    const otherPath = join(dir, 'tiny.json');
    writeFileSync(otherPath, JSON.stringify({ ...tiny, connector: { type: 'linear' } }));
    await expect(runSweep([otherPath], { out, seeds: 1, resume: true, logger: silentLogger })).rejects.toThrow(/tiny-seed0 holds a finished run of a different config or seed/);
    expect(readFileSync(join(out, 'tiny-seed0', 'report.json'), 'utf8')).toBe(seed0Report);
    await expect(runSweep([tinyPath], { out, seeds: 1, resume: true, force: true, logger: silentLogger })).rejects.toThrow(/pass one of the two/);
  });

  it('validates every config before the first run starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mllm-sweep-bad-'));
    const badPath = join(dir, 'bad.json');
    writeFileSync(badPath, JSON.stringify({ ...tiny, connector: { type: 'qformer', numQueries: 0 } }));
    const out = join(dir, 'out');
    await expect(runSweep([tinyPath, badPath], { out, seeds: 1, logger: silentLogger })).rejects.toThrow(/bad\.json: [\s\S]*connector\.numQueries/);
    expect(existsSync(join(out, 'tiny-seed0'))).toBe(false);
    await expect(runSweep([tinyPath], { out, seeds: 0, logger: silentLogger })).rejects.toThrow(/--seeds must be an integer >= 1/);
  });

  it('--jobs 2 trains each run in its own process and gives the table one process gives; a failed run keeps the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mllm-sweep-jobs-'));
    const inOne = await runSweep([tinyPath], { out: join(dir, 'one'), seeds: 2, logger: silentLogger });
    const out = join(dir, 'jobs');
    const lines: string[] = [];
    const logger = { ...silentLogger, info: (m: string) => lines.push(m) };
    const inTwo = await runSweep([tinyPath], { out, seeds: 2, jobs: 2, logger });
    // Same seeds, same code, another process: the same numbers, to the last bit.
    expect(inTwo[0]!.popeAccuracy).toEqual(inOne[0]!.popeAccuracy);
    expect([inTwo[0]!.chairI, inTwo[0]!.closedSet]).toEqual([inOne[0]!.chairI, inOne[0]!.closedSet]);
    for (const seed of [0, 1]) {
      expect(lines).toContain(`sweep: tiny seed ${seed} -> ${join(out, `tiny-seed${seed}`)} (own process, output in ${join(out, `tiny-seed${seed}`)}.log)`);
      expect(readFileSync(join(out, `tiny-seed${seed}.log`), 'utf8')).toContain(`written to ${join(out, `tiny-seed${seed}`)}`);
    }

    // A run that fails once it has started (a malformed data line): the other run still
    // finishes, and the error names the failed run and its log.
    mkdirSync(join(dir, 'img'));
    writeFileSync(join(dir, 'broken.jsonl'), '{"id": 1, "conversations": \n');
    const badPath = join(dir, 'bad.json');
    const badStages = (tiny.stages as { type: string }[]).map((s) => (s.type === 'instruct' ? { ...s, data: [{ source: 'llava', file: join(dir, 'broken.jsonl'), images: join(dir, 'img') }] } : s));
    writeFileSync(badPath, JSON.stringify({ ...tiny, stages: badStages }));
    const linearPath = join(dir, 'tiny-linear.json');
    writeFileSync(linearPath, JSON.stringify({ ...tiny, connector: { type: 'linear' } }));
    const err = await runSweep([badPath, linearPath], { out, seeds: 1, jobs: 2, logger: silentLogger }).catch((e: Error) => e);
    // the child's own error line, in one line of the parent's message
    expect((err as Error).message).toMatch(/^1 of 2 sweep runs failed:\n {2}sweep: bad seed 0 failed: .*broken\.jsonl:1.* \(exit code 2\); its output is in .*bad-seed0\.log\n.*--resume/);
    expect(readFileSync(join(out, 'bad-seed0.log'), 'utf8')).toMatch(/broken\.jsonl:1/);
    expect(existsSync(join(out, 'tiny-linear-seed0', 'report.json'))).toBe(true);
    await expect(runSweep([tinyPath], { out, seeds: 1, jobs: 0, logger: silentLogger })).rejects.toThrow(/--jobs must be a whole number >= 1/);
  });

  it('--set reaches every run, in this process and in the runs of --jobs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mllm-sweep-set-'));
    const set = ['stages.instruct.steps=3', 'eval.popePerImage=4'];
    for (const jobs of [1, 2]) {
      const out = join(dir, `jobs${jobs}`);
      await runSweep([tinyPath], { out, seeds: 1, jobs, set, logger: silentLogger });
      const stored = JSON.parse(readFileSync(join(out, 'tiny-seed0', 'config.json'), 'utf8'));
      expect(stored.stages.at(-1)).toMatchObject({ type: 'instruct', steps: 3 });
      expect(stored.eval.popePerImage).toBe(4);
    }
    await expect(runSweep([tinyPath], { out: join(dir, 'bad'), seeds: 1, set: ['connector.depht=3'], logger: silentLogger })).rejects.toThrow(/connector\.depht/);
  });

  it('runPool keeps at most `limit` tasks in flight, runs them all despite failures, and keeps their order', async () => {
    let inFlight = 0;
    let most = 0;
    const task = (i: number) => async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 5 * ((i * 7) % 4)));
      inFlight--;
      if (i === 2) throw new Error('task 2');
      return i;
    };
    const settled = await runPool([0, 1, 2, 3, 4, 5].map(task), 3);
    expect(most).toBe(3);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([0, 1, 'task 2', 3, 4, 5]);
    await expect(runPool([task(0)], 0)).rejects.toThrow(/--jobs must be a whole number >= 1, got 0/);
  });

  it('runInChild passes the run\'s flags, and says which run failed and where its output is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mllm-sweep-child-'));
    const echo = join(dir, 'echo.mjs');
    writeFileSync(echo, 'const args = JSON.parse(process.argv[2]); console.log(JSON.stringify(args)); process.exitCode = args.mode === "resume" ? 3 : 0;\n');
    const run = { label: 'x seed 2', configPath: 'c.json', seed: 2, out: 'o', backend: 'wasm', logPath: join(dir, 'x.log') };
    await runInChild({ ...run, mode: 'force' }, new URL(`file://${echo}`));
    expect(JSON.parse(readFileSync(run.logPath, 'utf8'))).toEqual({ configPath: 'c.json', seed: 2, out: 'o', mode: 'force', backend: 'wasm' });
    await expect(runInChild({ ...run, mode: 'resume' }, new URL(`file://${echo}`))).rejects.toThrow(`sweep: x seed 2 failed (exit code 3); its output is in ${run.logPath}`);
    await expect(runInChild({ ...run, mode: 'fresh', logPath: join(dir, 'no', 'such', 'dir.log') })).rejects.toThrow(/sweep: x seed 2 did not start: cannot write its log .*dir\.log \(ENOENT/);
  });
});
