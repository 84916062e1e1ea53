import { describe, it, expect } from 'vitest';
import { main } from './main';
import { capture } from './capture-output.test-helper';

describe('mllm run --workers', () => {
  it('rejects a count that is not a whole number >= 1 before touching anything', async () => {
    const c = capture();
    expect(await main(['run', 'configs/tiny.json', '--out', '/nonexistent/never-written', '--workers', '0'])).toBe(2);
    expect(await main(['run', 'configs/tiny.json', '--out', '/nonexistent/never-written', '--workers', 'two'])).toBe(2);
    c.restore();
    expect(c.err.join('')).toMatch(/--workers must be a whole number >= 1 .*got 0/);
    expect(c.err.join('')).toMatch(/--workers must be a whole number >= 1 .*got two/);
  });

  it('is listed in the usage', async () => {
    const c = capture();
    await main(['run', '--help']);
    c.restore();
    expect(c.out.join('')).toMatch(/Usage: mllm run \[options\] <config.json>[^]*--workers <n>/);
  });
});
