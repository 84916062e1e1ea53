import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MllmError, encodeSafetensors, silentLogger } from '@mllm/core';
import { recoverCheckpoint, swapCheckpoint, type CheckpointProgress } from './checkpoint-swap';
import { loadCheckpoint } from './run-dir';
import { nodeRunDirFs, type RunDirFs } from './run-dir-fs';

class Killed extends Error {}

/**
 * A RunDirFs that plays a process killed just before its operation number `killAt` (0-based):
 * that operation and every later one fail without touching the disk, except that a killed
 * writeFile leaves the first half of its bytes (a torn write), as a kill mid-write would.
 */
class KillingFs implements RunDirFs {
  ops = 0;
  constructor(private readonly killAt = Infinity) {}

  private async step<T>(run: () => Promise<T>, torn?: () => Promise<void>): Promise<T> {
    if (this.ops++ >= this.killAt) {
      if (this.ops - 1 === this.killAt) await torn?.();
      throw new Killed('killed');
    }
    return run();
  }
  writeFile(path: string, data: Buffer | string) {
    const bytes = Buffer.from(data);
    return this.step(() => nodeRunDirFs.writeFile(path, bytes), () => nodeRunDirFs.writeFile(path, bytes.subarray(0, bytes.length >> 1)));
  }
  mkdir = (path: string) => this.step(() => nodeRunDirFs.mkdir(path));
  rename = (from: string, to: string) => this.step(() => nodeRunDirFs.rename(from, to));
  rm = (path: string) => this.step(() => nodeRunDirFs.rm(path));
  syncDir = (path: string) => this.step(() => nodeRunDirFs.syncDir(path));
}

/** A checkpoint whose tensors all hold `value`, so a loaded one shows which save it came from. */
function files(value: number): [string, Buffer][] {
  return ['model', 'optimizer', 'stage'].map((n) => [`${n}.safetensors`, encodeSafetensors({ [`${n}.w`]: tf.fill([64], value) })]);
}
const OLD: CheckpointProgress = { stageIndex: 1, step: 5 };
const NEW: CheckpointProgress = { stageIndex: 1, step: 10 };

async function loaded(dir: string): Promise<{ step: number; values: number[] }> {
  const c = await loadCheckpoint(dir);
  const values = [c.model['model.w'], c.optimizer['optimizer.w'], c.extra['stage.w']].map((t) => t!.dataSync()[63]!);
  return { step: c.state.step, values };
}

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'mllm-swap-'));
}

/** File-system operations of a save over an earlier checkpoint, counted by a KillingFs that never kills. */
async function opsOfASave(): Promise<number> {
  const dir = freshDir();
  const counter = new KillingFs();
  await swapCheckpoint(dir, files(1), OLD);
  await swapCheckpoint(dir, files(2), NEW, counter);
  return counter.ops;
}

const leftovers = (dir: string) => readdirSync(dir).filter((n) => n !== 'checkpoint');

describe('checkpoint swap under a kill at every file-system operation', () => {

  it('leaves the old or the new checkpoint, whole, which --resume recovers and can save over', async () => {
    const ops = await opsOfASave();
    expect(ops).toBeGreaterThanOrEqual(9); // rm, mkdir, 3 files, state.json.part, rename, sync, renames...
    const outcomes: number[] = [];
    for (let killAt = 0; killAt <= ops; killAt++) {
      const dir = freshDir();
      await swapCheckpoint(dir, files(1), OLD);
      const save = swapCheckpoint(dir, files(2), NEW, new KillingFs(killAt));
      if (killAt < ops) await expect(save).rejects.toBeInstanceOf(Killed);
      else await save;

      const recovered = await recoverCheckpoint(dir, silentLogger);
      const { step, values } = await loaded(dir);
      expect(recovered?.step).toBe(step);
      expect(values).toEqual(step === NEW.step ? [2, 2, 2] : [1, 1, 1]); // never a mix of the two saves
      expect(leftovers(dir)).toEqual([]);
      outcomes.push(step);
      // the recovered folder takes the next save as any other
      await swapCheckpoint(dir, files(3), { stageIndex: 2, step: 0 });
      expect((await loaded(dir)).values).toEqual([3, 3, 3]);
    }
    // the old checkpoint until the new one is complete, the new one from then on
    const firstNew = outcomes.indexOf(NEW.step);
    expect(firstNew).toBeGreaterThan(0);
    expect(outcomes.slice(0, firstNew).every((s) => s === OLD.step)).toBe(true);
    expect(outcomes.slice(firstNew).every((s) => s === NEW.step)).toBe(true);
  });

  it('a first save killed anywhere leaves no checkpoint or the whole new one', async () => {
    const ops = await opsOfASave();
    for (let killAt = 0; killAt <= ops; killAt++) {
      const dir = freshDir();
      await swapCheckpoint(dir, files(2), NEW, new KillingFs(killAt)).catch((e) => expect(e).toBeInstanceOf(Killed));
      const recovered = await recoverCheckpoint(dir, silentLogger);
      if (recovered) expect(await loaded(dir)).toEqual({ step: NEW.step, values: [2, 2, 2] });
      expect(leftovers(dir)).toEqual([]);
    }
  });

  it('a kill during recovery is recovered on the next start', async () => {
    // kill the swap between its two renames: no checkpoint/, a complete checkpoint.tmp and checkpoint.old
    const ops = await opsOfASave();
    let between: string | undefined;
    for (let killAt = 0; killAt < ops && !between; killAt++) {
      const dir = freshDir();
      await swapCheckpoint(dir, files(1), OLD);
      await swapCheckpoint(dir, files(2), NEW, new KillingFs(killAt)).catch(() => undefined);
      if (!existsSync(join(dir, 'checkpoint'))) between = dir;
    }
    expect(between).toBeDefined();
    expect(readdirSync(between!).sort()).toEqual(['checkpoint.old', 'checkpoint.tmp']);
    for (let killAt = 0; killAt < 4; killAt++) {
      const dir = freshDir();
      await swapCheckpoint(dir, files(1), OLD);
      // ops - 3 is the rename checkpoint.tmp -> checkpoint: killed just before it
      await expect(swapCheckpoint(dir, files(2), NEW, new KillingFs(ops - 3))).rejects.toBeInstanceOf(Killed);
      expect(existsSync(join(dir, 'checkpoint'))).toBe(false);
      await recoverCheckpoint(dir, silentLogger, new KillingFs(killAt)).catch((e) => expect(e).toBeInstanceOf(Killed));
      expect(await recoverCheckpoint(dir, silentLogger)).toEqual(NEW);
      expect((await loaded(dir)).values).toEqual([2, 2, 2]);
    }
  });
});

describe('checkpoint swap on a full disk', () => {
  for (const code of ['ENOSPC', 'EDQUOT']) {
    it(`${code}: a clear error, no temporary folder, the last checkpoint intact`, async () => {
      const dir = freshDir();
      await swapCheckpoint(dir, files(1), OLD);
      const full: RunDirFs = {
        ...nodeRunDirFs,
        async writeFile(path, data) {
          if (path.endsWith('optimizer.safetensors')) {
            await nodeRunDirFs.writeFile(path, Buffer.from(data).subarray(0, 10)); // what fitted
            throw Object.assign(new Error(`${code}: no space left on device, write`), { code });
          }
          return nodeRunDirFs.writeFile(path, data);
        },
      };
      const error = await swapCheckpoint(dir, files(2), NEW, full).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MllmError);
      expect((error as Error).message).toBe(
        `disk full while writing checkpoint to ${join(dir, 'checkpoint.tmp')}; free space and rerun with --resume; the last checkpoint (stage 1 step 5) is intact`,
      );
      expect(readdirSync(dir)).toEqual(['checkpoint']);
      expect(await loaded(dir)).toEqual({ step: OLD.step, values: [1, 1, 1] });
    });
  }

  it('with no earlier checkpoint, says to start over', async () => {
    const dir = freshDir();
    const full: RunDirFs = { ...nodeRunDirFs, writeFile: () => Promise.reject(Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' })) };
    await expect(swapCheckpoint(dir, files(2), NEW, full)).rejects.toThrow(/disk full while writing checkpoint .*no earlier checkpoint exists, so rerun from the start \(--force\)/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('other write errors pass through unchanged and still remove the temporary folder', async () => {
    const dir = freshDir();
    await swapCheckpoint(dir, files(1), OLD);
    const broken: RunDirFs = { ...nodeRunDirFs, writeFile: () => Promise.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })) };
    await expect(swapCheckpoint(dir, files(2), NEW, broken)).rejects.toThrow('EIO: i/o error');
    expect(readdirSync(dir)).toEqual(['checkpoint']);
  });
});
