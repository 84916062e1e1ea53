#!/usr/bin/env node
// CPU time and peak RSS of an optimizer step (global gradient norm + AdamW update) over the
// parameters of SmolLM2-135M (~134.5M) on the wasm backend: the in-place update against the
// copying one, each in its own process so each peak RSS is its own.
//   node tools/bench-adamw.mjs [--steps 3] [--layers 30]
// Needs built packages (npx nx run-many -t build -p @mllm/training).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const steps = Number(flag('steps', '3'));
const layers = Number(flag('layers', '30'));
const mode = flag('mode', undefined);

/** SmolLM2-135M: hidden 576, 3 key/value heads of 64, MLP 1536, vocabulary 49152 (tied), `layers` blocks. */
function smolLm2Shapes() {
  const d = 576;
  const kv = 192;
  const ff = 1536;
  const block = [[d], [d, d], [d, kv], [d, kv], [d, d], [d], [d, ff], [d, ff], [ff, d]];
  return [[49152, d], ...Array.from({ length: layers }, () => block).flat(), [d]];
}

async function measure(inPlace) {
  const tf = await import('@tensorflow/tfjs');
  const { initBackend } = await import('@mllm/core');
  const { AdamW, globalGradNorm } = await import('@mllm/training');
  await initBackend({ backend: 'wasm' });
  const params = [];
  const grads = new Map();
  smolLm2Shapes().forEach((shape, i) => {
    const init = tf.randomUniform(shape, -0.05, 0.05, 'float32', i);
    params.push([`p${i}`, tf.variable(init)]);
    init.dispose(); // the variable owns its memory, as a loaded model's do
    grads.set(`p${i}`, tf.randomUniform(shape, -1e-3, 1e-3, 'float32', 1000 + i));
  });
  const count = params.reduce((n, [, p]) => n + p.size, 0);
  const opt = new AdamW(params, { weightDecay: 0.1, update: 'host', inPlace });
  // the norm as it was read before: a copy of every gradient out of the heap
  const copiedNorm = (all) => {
    let sum = 0;
    for (const g of all) {
      const values = g.dataSync();
      for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
    }
    return Math.sqrt(sum);
  };
  const cpu = [];
  for (let step = 0; step < steps; step++) {
    const start = process.cpuUsage();
    const norm = inPlace ? globalGradNorm(grads.values()) : copiedNorm(grads.values());
    opt.apply(grads, 1e-4, Math.min(1, 1 / norm));
    const used = process.cpuUsage(start);
    cpu.push((used.user + used.system) / 1e6);
  }
  const sorted = [...cpu].sort((a, b) => a - b);
  const result = { mode: inPlace ? 'in-place' : 'copying', params: count, cpuSeconds: cpu, medianCpuSeconds: sorted[Math.floor(sorted.length / 2)], peakRssBytes: process.resourceUsage().maxRSS * 1024 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (mode) {
  await measure(mode === 'in-place');
} else {
  const self = fileURLToPath(import.meta.url);
  const results = ['copying', 'in-place'].map((m) => {
    const child = spawnSync(process.execPath, [self, '--mode', m, '--steps', String(steps), '--layers', String(layers)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (child.status !== 0) throw new Error(`bench-adamw --mode ${m} exited with ${child.status}`);
    return JSON.parse(child.stdout.trim().split('\n').pop());
  });
  const gb = (b) => (b / 2 ** 30).toFixed(2);
  console.log(`AdamW step (norm + update), ${results[0].params} parameters, wasm, ${steps} steps per mode`);
  console.log('| update | CPU s/step (median, user+sys) | per step | peak RSS GiB |');
  console.log('|---|---|---|---|');
  for (const r of results) console.log(`| ${r.mode} | ${r.medianCpuSeconds.toFixed(2)} | ${r.cpuSeconds.map((s) => s.toFixed(2)).join(', ')} | ${gb(r.peakRssBytes)} |`);
  console.log(`CPU ratio copying / in-place: ${(results[0].medianCpuSeconds / results[1].medianCpuSeconds).toFixed(1)}x`);
}
