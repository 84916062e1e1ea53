import { describe, it, expect, beforeAll } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ShapesWorld, imageToPngBuffer, renderScene } from '@mllm/data';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'apps', 'cli', 'bin', 'mllm.js');
const example = join(root, 'examples', 'plugins', 'c-abstractor');
const exec = promisify(execFile);

/** Runs the built CLI as a user would; a non-zero exit fails with what it printed. */
async function mllm(args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; seconds: number }> {
  const start = performance.now();
  try {
    const { stdout, stderr } = await exec(process.execPath, [cli, ...args], { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    return { stdout, stderr, seconds: (performance.now() - start) / 1000 };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    throw new Error(`mllm ${args.join(' ')} exited ${err.code}:\n${err.stdout}\n${err.stderr}`);
  }
}

/**
 * A user's project outside the repository: the example's two files, and a node_modules in which
 * the published names resolve to the files the CLI itself loads (@mllm/* -> packages/*, tfjs
 * and zod -> the root node_modules), so there is one tfjs instance, as after `npm install`.
 */
function userProject(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mllm-plugin-')));
  expect(relative(root, dir).startsWith('..'), `${dir} must lie outside the repository`).toBe(true);
  for (const file of ['c-abstractor.mjs', 'config.json']) copyFileSync(join(example, file), join(dir, file));
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@mllm'), { recursive: true });
  mkdirSync(join(modules, '@tensorflow'), { recursive: true });
  for (const name of readdirSync(join(root, 'packages'))) symlinkSync(join(root, 'packages', name), join(modules, '@mllm', name), 'dir');
  for (const name of ['@tensorflow/tfjs', 'zod']) symlinkSync(realpathSync(join(root, 'node_modules', name)), join(modules, name), 'dir');
  return dir;
}

/**
 * Run in the user's folder: the trained run reopened with tfjs and the export loaded in
 * onnxruntime, on the same test images and prompt; prints the largest differences.
 */
const PARITY_SCRIPT = `
import { initBackend } from '@mllm/core';
import { openRun } from '@mllm/run';
import { OnnxMultimodalModel } from '@mllm/onnx';
const [run, onnx] = process.argv.slice(2);
await initBackend();
const session = await openRun(run);
const ort = await OnnxMultimodalModel.load(onnx, { threads: 1 });
const { model, world } = session;
const images = world.scenes('test').slice(0, 3).map((s) => world.image(s.id));
const maxAbs = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const want = model.encodeImages(model.imagesToTensor(images)).dataSync();
const got = (await ort.encodeImages(images)).data;
const prompt = { ids: [...session.tokenizer.encode('is there a circle ?'), model.special.imageTokenId], images: [images[0]] };
const sample = { ...prompt, lossMask: prompt.ids.map(() => 0) };
const { collatePrompts } = await import('@mllm/model');
const logits = model.forward({ ...collatePrompts([sample], model.batchOptions) }).dataSync();
const ortLogits = (await ort.promptLogits([prompt])).data;
console.log(JSON.stringify({
  tokens: model.tokensPerImage,
  featureScale: want.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
  features: maxAbs(got, want),
  logits: maxAbs(ortLogits, logits),
}));
await ort.release();
`;

const lossesByStage = (runDir: string): Record<string, number[]> => {
  const out: Record<string, number[]> = {};
  for (const line of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { stage: string; loss: number };
    (out[r.stage] ??= []).push(r.loss);
  }
  return out;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('a connector plugin in a folder outside the repository (examples/plugins/c-abstractor)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = userProject();
    const world = new ShapesWorld({ seed: 3, imageSize: 16, sizes: { train: 1, val: 1, test: 1 } });
    writeFileSync(join(dir, 'scene.png'), await imageToPngBuffer(renderScene(world.scenes('test')[0]!, { imageSize: 16 }), 16));
    writeFileSync(join(dir, 'parity.mjs'), PARITY_SCRIPT);
  });

  it('is trained by mllm run, evaluated, exported, and answered by chat --runtime onnx as by the tfjs chat', async () => {
    const seconds: Record<string, number> = {};
    const run = join(dir, 'run');
    const trained = await mllm(['run', join(dir, 'config.json'), '--out', run], dir);
    seconds.run = trained.seconds;
    expect(trained.stdout + trained.stderr).toMatch(/4 visual tokens per image/); // the 4 x 4 grid pooled 2 x 2
    for (const [stage, losses] of Object.entries(lossesByStage(run))) {
      expect(losses.every(Number.isFinite), stage).toBe(true);
      expect(mean(losses.slice(-5)), `${stage}: the loss falls`).toBeLessThan(mean(losses.slice(0, 5)));
    }
    expect(JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')).plugins).toEqual([join(dir, 'c-abstractor.mjs')]);

    seconds.eval = (await mllm(['eval', '--checkpoint', run], dir)).seconds;
    // the reopened run (plugin loaded again from the run folder's config) scores as the run itself did
    const evaluation = JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8'));
    const report = JSON.parse(readFileSync(join(run, 'report.json'), 'utf8')).eval;
    expect(evaluation.pope.random.n).toBeGreaterThan(0);
    expect(evaluation.closedSet.n).toBeGreaterThan(0);
    expect({ pope: evaluation.pope, closedSet: evaluation.closedSet, chair: evaluation.chair }).toEqual({ pope: report.pope, closedSet: report.closedSet, chair: report.chair });

    const onnx = join(dir, 'onnx');
    seconds.export = (await mllm(['export', '--checkpoint', run, '--out', onnx], dir)).seconds;
    for (const f of ['vision_encoder.onnx', 'embed_tokens.onnx', 'decoder_model_merged.onnx']) expect(existsSync(join(onnx, 'onnx', f)), f).toBe(true);
    expect(JSON.parse(readFileSync(join(onnx, 'mllm.json'), 'utf8')).components.connector).toEqual({ type: 'c-abstractor', pool: 2 });

    // the plugin's exporter computes what its tfjs forward computes
    const parity = JSON.parse((await exec(process.execPath, [join(dir, 'parity.mjs'), run, onnx], { cwd: dir })).stdout);
    expect(parity.tokens).toBe(4);
    expect(parity.featureScale).toBeGreaterThan(0.1);
    expect(parity.features).toBeLessThan(1e-5);
    expect(parity.logits).toBeLessThan(1e-4);

    const ask = ['--image', join(dir, 'scene.png'), '--prompt', 'is there a circle in the image ?', '--max-new-tokens', '6'];
    const tfjs = await mllm(['chat', '--checkpoint', run, ...ask], dir);
    const ort = await mllm(['chat', '--runtime', 'onnx', '--model', onnx, ...ask], dir);
    seconds.chat = tfjs.seconds + ort.seconds;
    expect(tfjs.stdout.trim().length, 'the tfjs chat answers something').toBeGreaterThan(0);
    expect(ort.stdout.trim()).toBe(tfjs.stdout.trim());
    console.log(`plugin acceptance: answer "${ort.stdout.trim()}", parity ${JSON.stringify(parity)}, seconds ${JSON.stringify(seconds)}`);
  });

  it('reaches data-parallel participants: mllm run --workers 2 trains the plugin connector', async () => {
    const run = join(dir, 'run-workers');
    // data parallelism runs on the wasm backend (a native one already uses every core)
    const trained = await mllm(['run', join(dir, 'config.json'), '--out', run, '--workers', '2'], dir, { MLLM_BACKEND: 'wasm' });
    expect(trained.stdout + trained.stderr).toMatch(/data-parallel: 2 participants/);
    const losses = lossesByStage(run)['2-instruct']!;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)));
  });

  it('reaches both paths of mllm sweep: runs in this process and runs of --jobs in their own', async () => {
    const short = ['--set', 'stages.pretrain-llm.steps=4', '--set', 'stages.align.steps=4', '--set', 'stages.instruct.steps=6'];
    const reports: unknown[] = [];
    for (const jobs of ['1', '2']) {
      const out = join(dir, `sweep-jobs${jobs}`);
      const swept = await mllm(['sweep', join(dir, 'config.json'), '--seeds', '1', '--jobs', jobs, '--out', out, ...short], dir);
      expect(swept.stdout).toMatch(/\| config \| c-abstractor \|/);
      const report = JSON.parse(readFileSync(join(out, 'config-seed0', 'report.json'), 'utf8'));
      expect(report.connector).toMatchObject({ type: 'c-abstractor', tokensPerImage: 4 });
      reports.push(report.eval);
    }
    // the same run in another process: the same numbers
    expect(reports[1]).toMatchObject({ pope: (reports[0] as { pope: unknown }).pope });
  });
});
