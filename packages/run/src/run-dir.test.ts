import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, MllmError, type Logger } from '@mllm/core';
import { mergeSkipped, openRunDir, RUN_MARKER } from './run-dir';
import { acquireRunLock, LOCK_FILE } from './run-lock';
import { swapCheckpoint } from './checkpoint-swap';

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => undefined, warn: (m) => warnings.push(m) };
}

const freshDir = () => join(mkdtempSync(join(tmpdir(), 'mllm-rundir-')), 'run');

/** The pid of a process that has exited: what a crashed run leaves in its lock. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid!;
}

describe('run folder lock', () => {
  it('refuses a second run into a folder in use, naming the holder, until the first releases it', async () => {
    const dir = freshDir();
    const first = await openRunDir(dir, { logger: recordingLogger() });
    const holder = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
    expect(holder).toMatchObject({ pid: process.pid, host: hostname() });
    const second = await openRunDir(dir, { force: true, logger: recordingLogger() }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(MllmError);
    expect((second as Error).message).toContain(`run folder ${dir} is in use by another run: pid ${process.pid} on ${hostname()}, started ${holder.started}`);
    await expect(openRunDir(dir, { resume: true, logger: recordingLogger() })).rejects.toThrow(/is in use by another run/);
    expect(existsSync(join(dir, RUN_MARKER))).toBe(true); // the refused --force removed nothing

    await first.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const third = await openRunDir(dir, { force: true, logger: recordingLogger() });
    await third.release();
  });

  it('a held lock is refused for a sweep too', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const sweepLock = await acquireRunLock(dir, recordingLogger());
    await expect(acquireRunLock(dir, recordingLogger())).rejects.toThrow(`pid ${process.pid}`);
    await sweepLock.release();
  });

  it('takes over the lock of a dead process on this host, with a warning', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const pid = deadPid();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), started: '2026-01-01T00:00:00.000Z', command: 'mllm run x' }));
    const logger = recordingLogger();
    const lock = await openRunDir(dir, { logger });
    expect(logger.warnings).toEqual([`run folder ${dir} was locked by pid ${pid} on ${hostname()} (since 2026-01-01T00:00:00.000Z), which is no longer running; taking the lock over`]);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('refuses a lock held on another host (it cannot be checked) and an unreadable one, saying which file to delete', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: 'elsewhere.example', started: 'then', command: '' }));
    await expect(openRunDir(dir, { logger: recordingLogger() })).rejects.toThrow(`on elsewhere.example, started then. Wait for it to finish or choose another --out; if that process is gone, delete ${join(dir, LOCK_FILE)} and rerun.`);
    writeFileSync(join(dir, LOCK_FILE), '{"pid":');
    await expect(openRunDir(dir, { logger: recordingLogger() })).rejects.toThrow(`holds a lock file that cannot be read (${join(dir, LOCK_FILE)})`);
  });
});

describe('--force and --resume on a folder', () => {
  it('--force refuses a folder that is not a run folder, saying what it holds', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'photos'), { recursive: true });
    writeFileSync(join(dir, 'thesis.tex'), 'x');
    const error = await openRunDir(dir, { force: true, logger: recordingLogger() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MllmError);
    expect((error as Error).message).toBe(
      `--force replaces run folders of mllm only, and ${dir} is not one (no ${RUN_MARKER}, nor config.json beside a checkpoint, report.json or metrics.jsonl): ` +
        'it holds photos/, thesis.tex. Choose another --out, or move those files away yourself if they can go.',
    );
    expect(readdirSync(dir).sort()).toEqual(['photos', 'thesis.tex']); // untouched, lock released
  });

  it('a config.json alone is not a run folder; with metrics.jsonl (a run from before the marker) it is', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), '{}');
    await expect(openRunDir(dir, { force: true, logger: recordingLogger() })).rejects.toThrow('is not one');
    writeFileSync(join(dir, 'metrics.jsonl'), '');
    const lock = await openRunDir(dir, { force: true, logger: recordingLogger() });
    expect(readdirSync(dir).sort()).toEqual([LOCK_FILE, RUN_MARKER]);
    await lock.release();
  });

  it('--force replaces a run folder this tool made; without it a non-empty folder is refused', async () => {
    const dir = freshDir();
    await (await openRunDir(dir, { logger: recordingLogger() })).release();
    writeFileSync(join(dir, 'report.json'), '{}');
    await expect(openRunDir(dir, { logger: recordingLogger() })).rejects.toThrow('already exists and is not empty; pass --force to overwrite it or --resume to continue it');
    const lock = await openRunDir(dir, { force: true, logger: recordingLogger() });
    expect(readdirSync(dir).sort()).toEqual([LOCK_FILE, RUN_MARKER]);
    await lock.release();
  });

  it('--out naming a file, and --resume with nothing to resume, are clear errors', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, '..'), { recursive: true });
    writeFileSync(dir, 'not a folder');
    await expect(openRunDir(dir, { logger: recordingLogger() })).rejects.toThrow(`--out ${dir} is a file, not a folder`);
    const missing = freshDir();
    await expect(openRunDir(missing, { resume: true, logger: recordingLogger() })).rejects.toBeInstanceOf(CheckpointError);
    expect(existsSync(missing)).toBe(false);
  });

  it('--resume recovers a checkpoint left mid-swap (no checkpoint/, a complete checkpoint.tmp)', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    await swapCheckpoint(dir, [], { stageIndex: 2, step: 4 });
    renameSync(join(dir, 'checkpoint'), join(dir, 'checkpoint.tmp'));
    const logger = recordingLogger();
    const lock = await openRunDir(dir, { resume: true, logger });
    expect(logger.warnings[0]).toMatch(/left mid-swap by an interrupted run; recovered it from .*checkpoint\.tmp \(stage 2 step 4\)/);
    expect(JSON.parse(readFileSync(join(dir, 'checkpoint', 'state.json'), 'utf8'))).toEqual({ stageIndex: 2, step: 4 });
    await lock.release();
  });
});

describe('mergeSkipped', () => {
  it('unions the records skipped before a checkpoint with those of the resumed process, one per line, in line order', () => {
    const stored = { 'd/a.jsonl': { count: 2, reasons: ['d/a.jsonl:3: 900 tokens', 'd/a.jsonl:10: image missing'] } };
    const current = {
      'd/a.jsonl': { count: 2, reasons: ['d/a.jsonl:3: 900 tokens', 'd/a.jsonl:7: not JSON'] },
      'd/b.jsonl': { count: 0, reasons: [] },
    };
    expect(mergeSkipped(stored, current)).toEqual({
      'd/a.jsonl': { count: 3, reasons: ['d/a.jsonl:3: 900 tokens', 'd/a.jsonl:7: not JSON', 'd/a.jsonl:10: image missing'] },
      'd/b.jsonl': { count: 0, reasons: [] },
    });
    expect(mergeSkipped(undefined, current)).toEqual(current);
  });
});
