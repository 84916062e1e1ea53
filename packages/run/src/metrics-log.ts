import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';

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
    await appendFile(this.path, JSON.stringify(record) + '\n');
  }

  async read(): Promise<MetricRecord[]> {
    if (!existsSync(this.path)) return [];
    return (await readFile(this.path, 'utf8'))
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as MetricRecord);
  }

  /** Drops records logged after the checkpoint a resumed run restarts from, so no step appears twice. */
  async truncateTo(stageIndex: number, step: number): Promise<void> {
    const kept = (await this.read()).filter((r) => r.stageIndex < stageIndex || (r.stageIndex === stageIndex && r.step < step));
    await writeFile(this.path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}
