import { vi } from 'vitest';

/** Collects what the CLI writes to stdout and stderr instead of printing it. */
export function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  return { out, err, restore: () => vi.restoreAllMocks() };
}

/** Runs `mllm <args>` in this process and returns its exit code and what it printed. */
export async function mllmInProcess(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('./main');
  const c = capture();
  try {
    const code = await main(args);
    return { code, out: c.out.join(''), err: c.err.join('') };
  } finally {
    c.restore();
  }
}
