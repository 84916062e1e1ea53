import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mllmInProcess } from './capture-output.test-helper';

const COMMANDS = ['run', 'sweep', 'eval', 'chat', 'scene', 'export', 'forward', 'lint-data', 'schema', 'hf-standin'];
const packageVersion = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version as string;

const mllm = mllmInProcess;

describe('mllm help, version and usage errors', () => {
  it('--version prints the version in apps/cli/package.json, from the sources and from the built bin', async () => {
    for (const flag of ['--version', '-v']) expect(await mllm([flag])).toEqual({ code: 0, out: `${packageVersion}\n`, err: '' });
    const bin = fileURLToPath(new URL('../bin/mllm.js', import.meta.url));
    expect(execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' })).toBe(`${packageVersion}\n`);
  });

  it('every command has its own --help: its usage, its options and examples of itself', async () => {
    const helps = new Map<string, string>();
    for (const command of COMMANDS) {
      const { code, out, err } = await mllm([command, '--help']);
      expect(code, command).toBe(0);
      expect(err).toBe('');
      expect(out, command).toMatch(new RegExp(`^Usage: mllm ${command} `));
      const examples = out.slice(out.indexOf('\nExamples:\n'));
      expect(examples.match(/^ {2}\$ mllm .*$/gm)!.length, command).toBeGreaterThanOrEqual(1);
      expect(examples.match(/^ {2}\$ mllm .*$/gm)!.every((line) => line.startsWith(`  $ mllm ${command} `)), command).toBe(true);
      expect((await mllm(['help', command])).out).toBe(out);
      helps.set(command, out);
    }
    expect(new Set(helps.values()).size).toBe(COMMANDS.length);
    // the flags other tools and tests pass are all there
    for (const [command, flags] of Object.entries({
      run: ['--out', '--backend', '--seed', '--resume', '--force', '--on-bad-sample', '--workers', '--set'],
      sweep: ['--out', '--seeds', '--jobs', '--backend', '--force', '--resume', '--set'],
      eval: ['--checkpoint', '--runtime', '--model', '--threads', '--vcd', '--pai'],
      chat: ['--checkpoint', '--runtime', '--model', '--image', '--prompt', '--max-new-tokens', '--temperature', '--top-k', '--top-p', '--repetition-penalty', '--seed', '--stop', '--threads', '--vcd', '--pai', '--correct'],
      export: ['--checkpoint', '--out', '--weights', '--max-positions', '--format', '--dtype', '--ops'],
      forward: ['--hf', '--input', '--output'],
      'lint-data': ['--images', '--config', '--max-length', '--show'],
      scene: ['--seed', '--size', '--objects', '--out', '--checkpoint'],
      schema: ['--out'],
      'hf-standin': ['--out', '--list', '--seed', '--dtype', '--max-shard-mb', '--force'],
    }))
      for (const flag of flags) expect(helps.get(command), `${command} ${flag}`).toMatch(new RegExp(`^ {2}${flag} `, 'm'));
  });

  it('with no arguments prints the overview of every command (exit 1: nothing was done)', async () => {
    const { code, out } = await mllm([]);
    expect(code).toBe(1);
    for (const command of COMMANDS) expect(out).toMatch(new RegExp(`^ {2}${command} `, 'm'));
    expect(out).toContain('mllm chat --checkpoint runs/default --image scene.png');
    expect((await mllm(['--help'])).out).toBe(out);
    expect(await mllm(['--debug'])).toEqual({ code: 1, out, err: '' });
  });

  it('an unknown command or flag, or a missing argument, is a usage error (exit 2) pointing at the help', async () => {
    const unknown = await mllm(['dance']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toBe('error: unknown command "dance"; one of: run, sweep, eval, chat, scene, export, forward, lint-data, schema, hf-standin (mllm --help)\n');
    const flag = await mllm(['chat', '--checkpoint', 'runs/x', '--colour', 'red']);
    expect(flag.code).toBe(2);
    expect(flag.err).toBe("error: unknown option '--colour'\n(mllm chat --help lists its options, with examples)\n");
    const root = await mllm(['--colour']);
    expect(root.code).toBe(2);
    expect(root.err).toMatch(/unknown option '--colour'\n\(mllm --help lists the commands\)/);
    const missing = await mllm(['run']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/missing required argument 'config.json'\n\(mllm run --help/);
    const extra = await mllm(['eval', 'runs/default']);
    expect(extra.code).toBe(2);
    expect(extra.err).toMatch(/too many arguments for 'eval'/);
    for (const r of [unknown, flag, root, missing, extra]) expect(r.err).not.toMatch(/\n\s+at /); // no stack
  });
});
