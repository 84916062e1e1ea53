import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, MllmError } from '@mllm/core';
import { describeError } from './describe-error';
import { debugRequested, formatError } from './report-error';

const context = { argv: ['chat', '--model', 'exports/x', '--image', 'photo.png'] };

/** An error as Node's fs throws it. */
function systemError(code: string, syscall: string, path?: string): Error {
  return Object.assign(new Error(`${code}: something, ${syscall}${path ? ` '${path}'` : ''}`), { code, syscall, errno: -1, ...(path && { path }) });
}

describe('describeError', () => {
  it("passes mllm's own errors through (exit 2), a config error with every JSON path", () => {
    expect(describeError(new MllmError('runs/x/config.json: not found'), context)).toEqual({ what: 'runs/x/config.json: not found', exitCode: 2 });
    const config = describeError(new ConfigError([{ path: 'stages[1].batchSize', message: 'must be >= 1' }, { path: 'llm.dim', message: 'expected number' }]), context);
    expect(config.what).toBe('Invalid config:\n  - stages[1].batchSize: must be >= 1\n  - llm.dim: expected number');
    const named = Object.assign(new Error('exports/x/mllm.json: field "dim" ...'), { name: 'TokenizerFileError' });
    expect(describeError(named, context).exitCode).toBe(2);
  });

  it('names the path of an OS error and says what to do (exit 2)', () => {
    expect(describeError(systemError('ENOENT', 'open', 'a/b.json'), context)).toEqual({ what: 'not found (a/b.json)', hint: expect.stringMatching(/check the path/), exitCode: 2 });
    expect(describeError(systemError('EACCES', 'open', '/etc/shadow'), context).what).toBe('permission denied (/etc/shadow)');
    expect(describeError(systemError('EMFILE', 'open', 'x'), context).hint).toMatch(/ulimit -n/);
    expect(describeError(systemError('EISDIR', 'read', 'data'), context).what).toBe('a folder where a file was expected (data)');
    // a write to an open file has no path: the command is named instead
    const full = describeError(systemError('ENOSPC', 'write'), context);
    expect(full.what).toBe('no space left on the device (write during mllm chat --model exports/x --image photo.png)');
    expect(full.hint).toMatch(/--resume/);
    expect(describeError(systemError('EWEIRD', 'open', 'x'), context).what).toMatch(/^EWEIRD, something, open 'x' \(x\)$/);
  });

  it('names the file in the way where a folder was expected', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mllm-describe-'));
    writeFileSync(join(dir, 'file'), '');
    expect(describeError(systemError('EEXIST', 'mkdir', join(dir, 'file')), context).what).toBe(`${join(dir, 'file')} is a file, a folder was expected (${join(dir, 'file')})`);
    expect(describeError(systemError('ENOTDIR', 'mkdir', join(dir, 'file', 'a', 'b')), context).what).toBe(`${join(dir, 'file')} is a file, a folder was expected (${join(dir, 'file', 'a', 'b')})`);
  });

  it('says which image could not be decoded, which JSON is broken, and that memory ran out', () => {
    expect(describeError(new Error('Input file contains unsupported image format'), context)).toMatchObject({ what: 'cannot decode image photo.png (Input file contains unsupported image format)', exitCode: 2 });
    expect(describeError(new Error('VipsJpeg: Premature end of input file'), { argv: ['run', 'c.json'] }).what).toMatch(/^cannot decode an image \(VipsJpeg: .*during mllm run c\.json\)$/);
    const json = describeError(new SyntaxError('Unexpected token } in JSON at position 9'), { argv: ['forward', '--input', 'in.json', '--hf', 'models/x'] });
    expect(json.what).toBe('not valid JSON: Unexpected token } in JSON at position 9 (reading in.json, models/x)');
    expect(describeError(new RangeError('Array buffer allocation failed'), { argv: ['run', 'big.json'] })).toMatchObject({ what: 'out of memory: Array buffer allocation failed (during mllm run big.json)', exitCode: 2 });
  });

  it('names the export folder onnxruntime failed on; anything else is an internal error (exit 1)', () => {
    // onnxruntime-node's words for a file that is not ONNX
    const ort = describeError(new Error('Load model from exports/x/onnx/decoder_model_merged.onnx failed:Protobuf parsing failed.'), context);
    expect(ort).toMatchObject({
      what: 'onnxruntime failed on exports/x: Load model from exports/x/onnx/decoder_model_merged.onnx failed:Protobuf parsing failed. (during mllm chat --model exports/x --image photo.png)',
      hint: expect.stringMatching(/export the run again with mllm export/),
      exitCode: 2,
    });
    // outside an export folder (the matMul engine while training) it is a bug
    expect(describeError(new Error("Non-zero status code returned while running MatMul node. Name:'m'"), { argv: ['run', 'c.json'] })).toMatchObject({ exitCode: 1, what: expect.stringMatching(/^internal error in onnxruntime: /) });
    const bug = new TypeError("Cannot read properties of undefined (reading 'shape')");
    expect(describeError(bug, { argv: ['eval', '--debug'] })).toEqual({
      what: "internal error: Cannot read properties of undefined (reading 'shape') (during mllm eval)",
      hint: 'rerun with --debug for the stack and report it',
      exitCode: 1,
      internal: true,
    });
    expect(describeError('a string', context)).toMatchObject({ what: 'internal error: a string', exitCode: 1 });
  });
});

describe('formatError', () => {
  it('prints error and hint lines, no stack; with debug the stack and its causes', () => {
    const bug = new TypeError('boom', { cause: new Error('the cause') });
    const plain = formatError(bug, { argv: ['schema'], debug: false });
    expect(plain).toEqual({ text: 'error: internal error: boom (during mllm schema)\nhint: rerun with --debug for the stack and report it\n', exitCode: 1 });
    const debug = formatError(bug, { argv: ['schema'], debug: true });
    expect(debug.text).toMatch(/^error: internal error: boom \(during mllm schema\)\nTypeError: boom\n\s+at .*\n[\s\S]*caused by: Error: the cause\n\s+at /);
  });

  it('drops stack frames a message carries (a wrapped stack) unless debugging', () => {
    const wrapped = new MllmError('worker 1 failed: Error: x\n    at f (a.js:1:1)\n    at g (b.js:2:2)');
    expect(formatError(wrapped, { argv: ['run'], debug: false }).text).toBe('error: worker 1 failed: Error: x\n');
  });

  it('--debug before a -- separator, or MLLM_DEBUG=1, asks for stacks', () => {
    expect(debugRequested(['run', 'c.json', '--debug'], {})).toBe(true);
    expect(debugRequested(['chat', '--', '--debug'], {})).toBe(false);
    expect(debugRequested(['run'], { MLLM_DEBUG: '1' })).toBe(true);
    expect(debugRequested(['run'], {})).toBe(false);
  });
});
