import cliProgress from 'cli-progress';
import type { RunProgress } from '@mllm/run';

/** On a pipe or in a log file, a plain line at most this often (and one at the end). */
const PLAIN_LINE_MS = 5_000;

/** "42s", "3m07s", "2h05m": how long is left. */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

type Payload = Record<string, string | number>;

/**
 * A progress bar with an ETA on a terminal (cli-progress); elsewhere a plain line every few
 * seconds with the ETA from the average pace so far.
 */
export class ProgressLine {
  private readonly bar?: cliProgress.SingleBar;
  private readonly started = performance.now();
  private lastPrint = -Infinity; // the first update prints

  /** `fields` is the cli-progress format after the counts, e.g. "loss {loss}"; `plain` writes the same for a log line. */
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly start: number,
    fields: string,
    private readonly plain: (payload: Payload) => string,
    initial: Payload,
  ) {
    if (process.stderr.isTTY) {
      this.bar = new cliProgress.SingleBar(
        { format: `${label.padEnd(18)} [{bar}] {value}/{total} | ${fields} | ETA {eta_formatted}`, hideCursor: true, stream: process.stderr, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, start, initial);
    }
  }

  update(value: number, payload: Payload): void {
    if (this.bar) return this.bar.update(value, payload);
    if (value < this.total && performance.now() - this.lastPrint < PLAIN_LINE_MS) return;
    this.lastPrint = performance.now();
    const done = value - this.start;
    const eta = done > 0 ? ((performance.now() - this.started) / 1000 / done) * (this.total - value) : NaN;
    process.stderr.write(`${this.label} ${value}/${this.total} ${this.plain(payload)} ETA ${formatEta(eta)}\n`);
  }

  stop(): void {
    this.bar?.stop();
  }
}

/** One training stage: loss, steps per second and tokens per second. */
function stageLine(stage: string, steps: number, startStep: number): ProgressLine {
  return new ProgressLine(
    stage,
    steps,
    startStep,
    'loss {loss} | {rate} step/s | {tps} tok/s',
    (p) => `loss ${p.loss} ${p.rate} step/s ${p.tps} tok/s`,
    { loss: '-', rate: '-', tps: '-' },
  );
}

/** An evaluation: prompts answered of all its prompts, the pace measured from the first answered batch (`done`). */
function evalLine(label: string, total: number, done: number): ProgressLine {
  return new ProgressLine(label, total, done, 'prompts answered', () => 'prompts answered', {});
}

/** `run`'s progress events drawn as one bar per stage and one per evaluation. */
export function progressBars(): (event: RunProgress) => void {
  let bar: ProgressLine | undefined;
  return (e) => {
    if (e.type === 'stage-start') bar = stageLine(e.stage, e.steps, e.startStep);
    else if (e.type === 'step') bar?.update(e.step, { loss: e.loss.toFixed(4), rate: (1 / e.seconds).toFixed(1), tps: Math.round(e.tokens / e.seconds) });
    else if (e.type === 'eval') {
      bar ??= evalLine(`eval (${e.after})`, e.total, e.done);
      bar.update(e.done, {});
      if (e.done >= e.total) bar = stopped(bar);
    } else bar = stopped(bar);
  };
}

function stopped(bar: ProgressLine | undefined): undefined {
  bar?.stop();
  return undefined;
}

/** A callback for `evaluate({ onProgress })`: a bar that appears with the first answered batch. */
export function evalProgress(label: string): (done: number, total: number) => void {
  let bar: ProgressLine | undefined;
  return (done, total) => {
    bar ??= evalLine(label, total, done);
    bar.update(done, {});
    if (done >= total) bar = stopped(bar);
  };
}
