import cliProgress from 'cli-progress';
import type { RunProgress } from '@mllm/run';

/** A terminal progress bar for a stage, showing loss and step rate; plain lines when not a TTY. */
export class StageProgress {
  private readonly bar?: cliProgress.SingleBar;
  private lastPrint = 0;

  constructor(
    readonly label: string,
    readonly total: number,
    start: number,
  ) {
    if (process.stderr.isTTY) {
      this.bar = new cliProgress.SingleBar(
        { format: `${label.padEnd(18)} [{bar}] {value}/{total} | loss {loss} | {rate} step/s | {tps} tok/s`, hideCursor: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, start, { loss: '-', rate: '-', tps: '-' });
    }
  }

  update(step: number, loss: number, stepSeconds: number, tokensPerSecond: number): void {
    const payload = { loss: loss.toFixed(4), rate: (1 / stepSeconds).toFixed(1), tps: Math.round(tokensPerSecond) };
    if (this.bar) this.bar.update(step, payload);
    else if (step === this.total || performance.now() - this.lastPrint > 10_000) {
      this.lastPrint = performance.now();
      process.stderr.write(`${this.label} ${step}/${this.total} loss ${payload.loss} ${payload.rate} step/s ${payload.tps} tok/s\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}

/** `run`'s progress events drawn as one bar per stage. */
export function progressBars(): (event: RunProgress) => void {
  let bar: StageProgress | undefined;
  return (e) => {
    if (e.type === 'stage-start') bar = new StageProgress(e.stage, e.steps, e.startStep);
    else if (e.type === 'step') bar?.update(e.step, e.loss, e.seconds, e.tokens / e.seconds);
    else {
      bar?.stop();
      bar = undefined;
    }
  };
}
