import { describe, it, expect, vi, afterEach } from 'vitest';
import { formatEta, progressBars } from './progress';
import { capture } from './capture-output.test-helper';

describe('progress on a pipe or in a log file', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('formats what is left as seconds, minutes or hours', () => {
    expect([formatEta(0), formatEta(42.4), formatEta(187), formatEta(7500), formatEta(NaN), formatEta(-1)]).toEqual(['0s', '42s', '3m07s', '2h05m', '-', '-']);
  });

  it('writes a stage line with loss, pace and an ETA from the pace so far, a few seconds apart and at the end; then the evaluation', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
    const c = capture();
    try {
      const onProgress = progressBars();
      onProgress({ type: 'stage-start', stage: 'instruct', index: 0, steps: 20, startStep: 0 });
      for (let step = 1; step <= 20; step++) {
        vi.advanceTimersByTime(2000); // 2 s a step
        onProgress({ type: 'step', stage: 'instruct', index: 0, step, steps: 20, loss: 1 / step, seconds: 2, tokens: 100 });
      }
      onProgress({ type: 'stage-end', stage: 'instruct', index: 0 });
      for (const done of [32, 64, 80]) {
        vi.advanceTimersByTime(4000); // 4 s a batch of 32
        onProgress({ type: 'eval', after: 'instruct', done, total: 80 });
      }
    } finally {
      c.restore();
      if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
    const lines = c.err.join('').trimEnd().split('\n');
    expect(lines[0]).toBe('instruct 1/20 loss 1.0000 0.5 step/s 50 tok/s ETA 38s'); // 19 steps at 2 s
    expect(lines).toContain('instruct 20/20 loss 0.0500 0.5 step/s 50 tok/s ETA 0s');
    expect(lines.filter((l) => l.startsWith('instruct ')).length).toBeLessThan(20); // not a line per step
    // the evaluation's pace counts from its first batch: 32 prompts in 4 s, 16 left
    expect(lines.filter((l) => l.startsWith('eval '))).toEqual(['eval (instruct) 32/80 prompts answered ETA -', 'eval (instruct) 80/80 prompts answered ETA 0s']);
  });
});
