#!/usr/bin/env node
/**
 * `npm run playground` (after the workspace build): makes sure a model export exists, then serves
 * the playground with it and prints the address.
 *
 * The model: runs/default when `npm start` trained it (exported to runs/playground/default-onnx),
 * otherwise configs/tiny.json trained into runs/playground/tiny (seconds; it answers poorly, but
 * the page works on a fresh clone with no download) and exported to runs/playground/tiny-onnx.
 * An export is redone when its run's model.safetensors is newer.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './serve.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const mllm = join(root, 'apps', 'cli', 'bin', 'mllm.js');

function run(args) {
  console.log(`playground: mllm ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [mllm, ...args], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : undefined);

/** The run folder to serve and where its export goes. */
function chooseRun() {
  const trained = join(root, 'runs', 'default');
  if (existsSync(join(trained, 'model.safetensors'))) return { run: trained, out: join(root, 'runs', 'playground', 'default-onnx') };
  const tiny = join(root, 'runs', 'playground', 'tiny');
  if (!existsSync(join(tiny, 'model.safetensors'))) {
    console.log('playground: runs/default does not exist (`npm start` trains it in 4-10 minutes); training configs/tiny.json instead (seconds; a tiny model answers poorly)');
    run(['run', 'configs/tiny.json', '--out', tiny, '--force']);
  }
  return { run: tiny, out: join(root, 'runs', 'playground', 'tiny-onnx') };
}

const { run: runDir, out } = chooseRun();
if ((mtime(join(out, 'mllm.json')) ?? -1) < (mtime(join(runDir, 'model.safetensors')) ?? 0)) run(['export', '--checkpoint', runDir, '--out', out]);
if (!existsSync(join(root, 'apps', 'playground', 'dist', 'index.html'))) {
  console.error('playground: apps/playground/dist is missing; build it first (`npm run playground` at the repository root builds everything)');
  process.exit(1);
}
const { url } = await startServer({ model: out, port: Number(process.env.PORT ?? 5180) });
console.log(`playground: serving ${out.slice(root.length + 1)} at ${url} (Ctrl+C stops it)`);
