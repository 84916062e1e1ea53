import { vi } from 'vitest';

/** Collects what the CLI writes to stdout and stderr instead of printing it. */
export function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  return { out, err, restore: () => vi.restoreAllMocks() };
}
