import { describe, it, expect } from 'vitest';
import { main } from './main';
import { capture } from './capture-output.test-helper';

// `--set` and `mllm schema` are wired to placeholders until @mllm/run provides loadConfig and
// runConfigJsonSchema; these tests pin that they are refused, never silently ignored.
describe('mllm run --set and mllm schema before the library provides them', () => {
  it('--set is accepted as a flag of run and sweep and refused with a clear error, before anything runs', async () => {
    const c = capture();
    const run = await main(['run', 'configs/tiny.json', '--out', '/nonexistent/never-written', '--set', 'seed=3', '--set', 'stages[0].steps=1']);
    const sweep = await main(['sweep', 'configs/tiny.json', '--out', '/nonexistent/never-written', '--set', 'seed=3']);
    c.restore();
    expect([run, sweep]).toEqual([2, 2]);
    expect(c.err.join('')).toMatch(/error: --set is not available yet \(got "seed=3", "stages\[0\]\.steps=1"\)/);
  });

  it('mllm schema says it is not available (exit 2), with or without --out', async () => {
    const c = capture();
    expect(await main(['schema'])).toBe(2);
    expect(await main(['schema', '--out', '/nonexistent/schema.json'])).toBe(2);
    c.restore();
    expect(c.err.join('')).toMatch(/^error: mllm schema is not available yet/);
  });
});
