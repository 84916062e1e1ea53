import { describe, it, expect, beforeAll } from 'vitest';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@mllm/core';
import { imageToPngBuffer, renderScene } from '@mllm/data';
import { openRun, run as runPipeline } from '@mllm/run';
import { mllmInProcess } from './capture-output.test-helper';
import { writeTinyHfCausalLm } from '../../../packages/llm/src/hf-reference.test-helper';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));
delete tiny.$schema;
// one short stage: these tests need a finished run folder, not a trained model
const config = { ...tiny, stages: [{ type: 'instruct', steps: 2, batchSize: 8, checkpointEvery: 0, evalEvery: 0 }] };

const STACK_FRAME = /^\s+at /m;

/** Every path under `root` with its size and modification time: what a failed command must leave as it was. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const s = lstatSync(path);
      out[path] = s.isDirectory() ? 'dir' : `${s.size} ${s.mtimeMs}`;
      if (s.isDirectory()) walk(path);
    }
  };
  walk(root);
  return out;
}

const root = mkdtempSync(join(tmpdir(), 'mllm-broken-inputs-'));
const at = (...parts: string[]) => join(root, ...parts);

/** The fixtures: one good run folder, damaged copies of it, and files that are not what a flag expects. */
beforeAll(async () => {
  await runPipeline(config, { out: at('run'), logger: silentLogger });
  cpSync(at('run'), at('run-garbage-tokenizer'), { recursive: true });
  writeFileSync(at('run-garbage-tokenizer', 'tokenizer.json'), 'garbage{');
  cpSync(at('run'), at('run-truncated-weights'), { recursive: true });
  const weights = readFileSync(at('run', 'model.safetensors'));
  writeFileSync(at('run-truncated-weights', 'model.safetensors'), weights.subarray(0, Math.floor(weights.length / 2)));
  writeFileSync(at('config.json'), JSON.stringify(config));
  writeFileSync(at('invalid.json'), '{ "seed": 0, "llm": ');
  writeFileSync(at('wrong-type.json'), JSON.stringify({ ...config, llm: { ...config.llm, layers: 'two' } }));
  writeFileSync(at('file.txt'), 'a file, not a folder\n');
  mkdirSync(at('folder'));
  mkdirSync(at('onnx-empty'));
  writeFileSync(at('not-an-image.png'), 'this is text, not a PNG\n');
  const opened = await openRun(at('run'));
  writeFileSync(at('scene.png'), await imageToPngBuffer(renderScene(opened.world.scenes('test')[0]!, { imageSize: 16 }), 16));
  opened.dispose();
  writeFileSync(at('data.jsonl'), `${JSON.stringify({ id: 'a', image: 'scene.png', conversations: [{ from: 'human', value: '<image>\nwhat ?' }, { from: 'gpt', value: 'red' }] })}\n`);
  writeFileSync(at('in.json'), JSON.stringify({ inputIds: [[1, 2, 3]] }));
  await writeTinyHfCausalLm(at('hf-llama'));
}, 120_000);

/**
 * [command line, what the error line must say]. Every file a command should write is named
 * inside `root`, so the snapshot of `root` shows anything written where it should not be.
 */
const CASES: [string[], RegExp][] = [
  // run
  [['run', at('missing.json'), '--out', at('out')], /missing\.json/],
  [['run', at('folder'), '--out', at('out')], /folder/],
  [['run', at('invalid.json'), '--out', at('out')], /invalid\.json/],
  [['run', at('wrong-type.json'), '--out', at('out')], /llm\.layers/],
  [['run', at('config.json'), '--out', at('file.txt')], /file\.txt/],
  [['run', at('config.json'), '--out', at('file.txt', 'run')], /file\.txt/],
  [['run', at('config.json'), '--out', at('out'), '--workers', '0'], /--workers/],
  [['run', at('config.json'), '--out', at('out'), '--on-bad-sample', 'maybe'], /--on-bad-sample/],
  [['run', at('config.json'), '--out', at('out'), '--set', 'llm.layers=two'], /llm\.layers/],
  [['run', at('config.json'), '--out', at('out'), '--backend', 'abacus'], /abacus/],
  // sweep
  [['sweep', at('missing.json'), '--out', at('out')], /missing\.json/],
  [['sweep', at('invalid.json'), '--out', at('out')], /invalid\.json/],
  [['sweep', at('wrong-type.json'), '--out', at('out')], /llm\.layers/],
  [['sweep', at('config.json'), '--out', at('out'), '--jobs', '0'], /--jobs/],
  [['sweep', at('config.json'), '--out', at('out'), '--seeds', 'two'], /--seeds/],
  [['sweep', at('config.json'), '--out', at('out'), '--backend', 'abacus'], /--backend must be one of .*abacus/],
  // eval
  [['eval', '--checkpoint', at('missing')], /missing/],
  [['eval', '--checkpoint', at('file.txt')], /file\.txt/],
  [['eval', '--checkpoint', at('run-garbage-tokenizer')], /run-garbage-tokenizer\/tokenizer\.json/],
  [['eval', '--checkpoint', at('run-truncated-weights')], /run-truncated-weights\/model\.safetensors/],
  [['eval', '--runtime', 'onnx', '--model', at('onnx-empty')], /onnx-empty/],
  [['eval', '--runtime', 'onnx', '--model', at('file.txt')], /file\.txt/],
  [['eval', '--runtime', 'abacus', '--checkpoint', at('run')], /--runtime/],
  // chat
  [['chat', '--checkpoint', at('run'), '--image', at('not-an-image.png'), '--prompt', 'what ?'], /not-an-image\.png/],
  [['chat', '--checkpoint', at('run'), '--image', at('folder'), '--prompt', 'what ?'], /folder/],
  [['chat', '--checkpoint', at('run'), '--image', at('missing.png'), '--prompt', 'what ?'], /missing\.png/],
  [['chat', '--checkpoint', at('run-garbage-tokenizer'), '--image', at('scene.png'), '--prompt', 'what ?'], /run-garbage-tokenizer\/tokenizer\.json/],
  [['chat', '--checkpoint', at('run-truncated-weights'), '--image', at('scene.png'), '--prompt', 'what ?'], /model\.safetensors/],
  [['chat', '--checkpoint', at('file.txt'), '--image', at('scene.png'), '--prompt', 'what ?'], /file\.txt/],
  [['chat', '--runtime', 'onnx', '--model', at('onnx-empty'), '--image', at('scene.png'), '--prompt', 'what ?'], /onnx-empty/],
  [['chat', '--checkpoint', at('run'), '--image', at('scene.png'), '--prompt', 'what ?', '--temperature', 'hot'], /--temperature/],
  // scene
  [['scene', '--out', at('file.txt', 'scene.png')], /file\.txt/],
  [['scene', '--out', at('folder')], /folder/],
  [['scene', '--checkpoint', at('missing'), '--out', at('out.png')], /missing/],
  [['scene', '--checkpoint', at('file.txt'), '--out', at('out.png')], /file\.txt/],
  [['scene', '--out', at('out.png'), '--size', '0'], /--size/],
  // export
  [['export', '--checkpoint', at('missing'), '--out', at('out')], /missing/],
  [['export', '--checkpoint', at('run'), '--out', at('file.txt')], /file\.txt/],
  [['export', '--checkpoint', at('run-garbage-tokenizer'), '--out', at('out')], /tokenizer\.json/],
  [['export', '--checkpoint', at('run-truncated-weights'), '--out', at('out')], /model\.safetensors/],
  [['export', '--checkpoint', at('run'), '--out', at('out'), '--weights', 'fp8'], /fp8/],
  // forward
  [['forward', '--hf', at('missing'), '--input', at('in.json'), '--output', at('out.json')], /missing/],
  [['forward', '--hf', at('folder'), '--input', at('in.json'), '--output', at('out.json')], /folder/],
  [['forward', '--hf', at('file.txt'), '--input', at('in.json'), '--output', at('out.json')], /file\.txt/],
  [['forward', '--hf', at('hf-llama'), '--input', at('invalid.json'), '--output', at('out.json')], /invalid\.json/],
  [['forward', '--hf', at('hf-llama'), '--input', at('folder'), '--output', at('out.json')], /folder/],
  [['forward', '--hf', at('hf-llama'), '--input', at('in.json'), '--output', at('file.txt', 'out.json')], /file\.txt/],
  // lint-data
  [['lint-data', at('missing.jsonl')], /missing\.jsonl/],
  [['lint-data', at('folder')], /folder/],
  [['lint-data', at('data.jsonl'), '--config', at('invalid.json')], /invalid\.json/],
  [['lint-data', at('data.jsonl'), '--config', at('wrong-type.json')], /llm\.layers/],
  [['lint-data', at('data.jsonl'), '--show', '-1'], /--show/],
  // schema
  [['schema', '--out', at('file.txt', 'schema.json')], /file\.txt/],
  [['schema', '--out', at('folder')], /folder/],
  // a full disk (Linux's /dev/full fails every write with ENOSPC)
  ...(existsSync('/dev/full') ? [[['schema', '--out', '/dev/full'], /^error: no space left on the device \(write during mllm schema --out \/dev\/full\)\nhint: free some space/m] as [string[], RegExp]] : []),
  // unknown flags and commands
  [['chat', '--checkpoint', at('run'), '--colour', 'red'], /unknown option '--colour'/],
  [['dance'], /unknown command "dance"/],
];

describe('every mllm command on broken inputs', () => {
  it.each(CASES.map(([args, says]) => [args.join(' ').replaceAll(root, '<tmp>'), args, says] as const))('%s', async (_, args, says) => {
    const before = snapshot(root);
    const { code, err } = await mllmInProcess(args);
    expect(code, err).toBeGreaterThan(0);
    expect(err).toMatch(/^error: /m);
    expect(err, 'names what and where').toMatch(says);
    expect(err, 'a stack frame').not.toMatch(STACK_FRAME);
    expect(snapshot(root), 'nothing written').toEqual(before);
  });

  it('writes nothing into the current folder either (no default runs/ folder)', () => {
    expect(existsSync(join(process.cwd(), 'runs'))).toBe(false);
  });
});

describe('the built mllm bin on broken inputs', () => {
  const bin = fileURLToPath(new URL('../bin/mllm.js', import.meta.url));
  const mllm = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

  it('prints one error line (and a hint), no stack, with exit code 2', () => {
    for (const args of [
      ['chat', '--checkpoint', at('run'), '--image', at('not-an-image.png'), '--prompt', 'what ?'],
      ['eval', '--checkpoint', at('run-garbage-tokenizer')],
      ['run', at('config.json'), '--out', at('file.txt', 'run')],
      ['schema', '--out', at('file.txt', 'schema.json')],
    ]) {
      const before = snapshot(root);
      const { status, stdout, stderr } = mllm(args);
      expect(status, stderr).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.match(/^error: \S/gm), stderr).toHaveLength(1); // after the backend's info line, for commands that start one
      expect(stderr).not.toMatch(STACK_FRAME);
      expect(snapshot(root)).toEqual(before);
    }
    const { stderr } = mllm(['schema', '--out', at('file.txt', 'schema.json')]);
    expect(stderr).toBe(`error: ${at('file.txt')} is a file, a folder was expected (${at('file.txt', 'schema.json')})\nhint: name a folder, or move the file out of the way\n`);
  });

  it('with --debug, or MLLM_DEBUG=1, prints the stack below the same lines', () => {
    const args = ['eval', '--checkpoint', at('run-garbage-tokenizer')];
    const plain = mllm(args).stderr;
    for (const { stderr, status } of [mllm([...args, '--debug']), mllm(['--debug', ...args]), mllm(args, { MLLM_DEBUG: '1' })]) {
      expect(status).toBe(2);
      expect(stderr.startsWith(plain)).toBe(true);
      expect(stderr.slice(plain.length)).toMatch(/^TokenizerFileError: .*tokenizer\.json: is not a valid JSON object[\s\S]*\n\s+at /);
      expect(stderr).toMatch(/caused by: TokenizerFileError: tokenizer\.json: is not a valid JSON object/);
    }
  });
});
