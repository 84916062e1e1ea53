import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@mllm/core';
import { imageToPngBuffer, renderScene } from '@mllm/data';
import { main } from './main';
import { run as runPipeline, openRun } from '@mllm/run';
import { capture } from './capture-output.test-helper';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));


describe('mllm command', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'mllm-main-')), 'run');
  beforeAll(async () => {
    await runPipeline(tiny, { out: dir, logger: silentLogger });
  });

  it('prints usage for --help and rejects unknown commands with a pointer to help', async () => {
    const c = capture();
    expect(await main(['--help'])).toBe(0);
    expect(await main(['dance'])).toBe(2);
    c.restore();
    expect(c.out.join('')).toMatch(/run \[options\] <config.json>/);
    expect(c.err.join('')).toMatch(/unknown command "dance"/);
  });

  it('sweep without configs or with a bad --seeds says how to call it', async () => {
    const c = capture();
    expect(await main(['sweep'])).toBe(2);
    expect(await main(['sweep', 'configs/tiny.json', '--seeds', 'two'])).toBe(2);
    c.restore();
    expect(c.err.join('')).toMatch(/mllm sweep needs at least one config/);
    expect(c.err.join('')).toMatch(/--seeds must be an integer >= 1, got two/);
  });

  it('eval and chat name the missing file when the checkpoint folder is wrong', async () => {
    const c = capture();
    expect(await main(['eval', '--checkpoint', join(dir, 'nope')])).toBe(2);
    c.restore();
    expect(c.err.join('')).toMatch(/nope\/config.json: not found; pass the folder of a finished `mllm run`/);
  });

  it('a corrupt model file is reported by name and cause', async () => {
    const broken = join(mkdtempSync(join(tmpdir(), 'mllm-broken-')), 'run');
    await runPipeline(tiny, { out: broken, logger: silentLogger });
    writeFileSync(join(broken, 'model.safetensors'), Buffer.from([1, 2, 3, 4]));
    await expect(openRun(broken)).rejects.toThrow(/model.safetensors: is 4 bytes, too short to be safetensors/);
  });

  it('eval re-scores a finished run and chat answers about a PNG', async () => {
    const world = (await openRun(dir)).world;
    const scene = world.scenes('test')[0]!;
    const png = join(dir, 'scene.png');
    writeFileSync(png, await imageToPngBuffer(renderScene(scene, { imageSize: 16 }), 16));
    const c = capture();
    expect(await main(['eval', '--checkpoint', dir])).toBe(0);
    expect(await main(['chat', '--checkpoint', dir, '--image', png, '--prompt', 'how many objects are there ?', '--max-new-tokens', '3'])).toBe(0);
    const sampled = ['--temperature', '0.8', '--top-k', '6', '--top-p', '0.9', '--repetition-penalty', '1.2', '--seed', '2', '--stop', 'zzz'];
    expect(await main(['chat', '--checkpoint', dir, '--image', png, '--prompt', 'how many objects are there ?', '--max-new-tokens', '3', ...sampled])).toBe(0);
    c.restore();
    expect(c.out.join('')).toMatch(/POPE random/);
    expect(c.out.join('')).toMatch(/detail {5}CHAIR_i \d\.\d{3} .* hallucinated claims: existence \d\.\d{3}  attribute \d\.\d{3}  relationship \d\.\d{3}/);
    expect(existsSync(join(dir, 'eval.json'))).toBe(true);
    const evalJson = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8'));
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(evalJson.pope).toEqual(report.eval.pope);
    expect(evalJson.detail.chair).toEqual(report.eval.detail.chair);
    expect(Object.keys(evalJson.byKind)).toEqual(['existence', 'attribute', 'relationship']);
  });
});
