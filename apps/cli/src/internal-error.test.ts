import { describe, it, expect, vi, afterEach } from 'vitest';
import { mllmInProcess } from './capture-output.test-helper';

// A bug stands in for any: the registry `mllm schema` reads throws a TypeError
vi.mock('@mllm/run', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@mllm/run')>()),
  createRegistry: () => {
    throw new TypeError("Cannot read properties of undefined (reading 'encoders')");
  },
}));

describe('a bug in mllm', () => {
  afterEach(() => {
    delete process.env.MLLM_DEBUG;
  });

  it('is one internal-error line and a hint to rerun with --debug, exit 1', async () => {
    expect(await mllmInProcess(['schema'])).toEqual({
      code: 1,
      out: '',
      err: "error: internal error: Cannot read properties of undefined (reading 'encoders') (during mllm schema)\nhint: rerun with --debug for the stack and report it\n",
    });
  });

  it('with --debug (before or after the command) or MLLM_DEBUG=1 prints the stack below it', async () => {
    for (const args of [['--debug', 'schema'], ['schema', '--debug']]) {
      const { code, err } = await mllmInProcess(args);
      expect(code).toBe(1);
      expect(err).toMatch(/^error: internal error: Cannot read properties .* \(during mllm schema\)\nTypeError: Cannot read properties/);
      expect(err).toMatch(/^\s+at .*internal-error\.test\.ts/m);
    }
    process.env.MLLM_DEBUG = '1';
    expect((await mllmInProcess(['schema'])).err).toMatch(/^\s+at /m);
  });
});
