import { appendFile, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { MllmError } from '@mllm/core';
import { writeFileAtomic } from '@mllm/core/internal';
import { isDiskFull } from './run-dir-fs';

export interface MetricRecord {
  stage: string;
  stageIndex: number;
  step: number;
  loss: number;
  valLoss?: number;
  lr: number;
  gradNorm: number;
  tokens: number;
  seconds: number;
  /** What the stage's objective reported for this step (DPO rewards, PPO KL, ...). */
  stats?: Record<string, number>;
  /** The same on held-out data, where the step ran a validation. */
  valStats?: Record<string, number>;
}

/** metrics.jsonl: one JSON object per training step, appended as training goes. */
export class MetricsLog {
  constructor(readonly path: string) {}

  async append(record: MetricRecord): Promise<void> {
    try {
      await appendFile(this.path, JSON.stringify(record) + '\n');
    } catch (e) {
      // a torn line this leaves is dropped by truncateTo on --resume
      if (isDiskFull(e)) throw new MllmError(`disk full while appending to ${this.path}; free space and rerun with --resume (the run continues from its last checkpoint)`);
      throw e;
    }
  }

  async read(): Promise<MetricRecord[]> {
    if (!existsSync(this.path)) return [];
    return (await readFile(this.path, 'utf8'))
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as MetricRecord);
  }

  /**
   * Drops records logged after the checkpoint a resumed run restarts from, so no step appears
   * twice, and a last line that a kill cut off mid-append. The file is replaced atomically: a
   * kill while truncating keeps the records before the checkpoint.
   */
  async truncateTo(stageIndex: number, step: number): Promise<void> {
    if (!existsSync(this.path)) return;
    const lines = (await readFile(this.path, 'utf8')).split('\n').filter((l) => l.trim());
    const kept = lines.filter((line, i) => {
      let r: MetricRecord;
      try {
        r = JSON.parse(line) as MetricRecord;
      } catch (e) {
        if (i === lines.length - 1) return false; // the torn tail of an append
        throw new MllmError(`${this.path}: line ${i + 1} is not JSON (${(e as Error).message}); the run's metrics are damaged: train it again with --force`);
      }
      return r.stageIndex < stageIndex || (r.stageIndex === stageIndex && r.step < step);
    });
    await writeFileAtomic(this.path, kept.map((l) => l + '\n').join(''));
  }
}
