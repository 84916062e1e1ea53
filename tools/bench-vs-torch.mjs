#!/usr/bin/env node
// The same LLaVA training step (shapes, weights, batch, loss masking, AdamW + global-norm clip,
// fp32) in this project and in PyTorch (tools/bench-torch/llava_step.py), back to back on this
// machine. Both take a frozen tower's features as input (a feature cache): the tower's forward
// is in neither step. The weights are exported from this project's model to PyTorch, and both
// report the loss at step 0 and after one update on the same batch: equal losses say both
// computed the same step. PyTorch is a yardstick, never a dependency: Debian's python3-torch is
// installed with apt-get when missing.
//   node tools/bench-vs-torch.mjs [case ...] [--steps N] [--warmup N] [--threads 1,2]
//   (cases: default, llm-8x256, smollm2-135m-instruct, smollm2-135m-align; default: all)
// Numbers move 30-50% between runs on a shared machine: read the ratios of one run.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, setMatMulEngine, matMulEngineInfo } from '@mllm/core';
import { trainLoop } from '@mllm/training';
import { benchCases, buildCase, stepFlops } from './bench-torch/cases.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** python3 with torch, installing Debian's python3-torch when it is missing; the version or why not. */
export function ensureTorch() {
  const probe = () => spawnSync('python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  let r = probe();
  if (r.status === 0) return { ok: true, version: r.stdout.trim() };
  // as .ci/run installs chromium: sudo unless root
  const asRoot = (args) => (process.getuid?.() === 0 ? ['env', args] : ['sudo', ['env', ...args]]);
  try {
    execFileSync(...asRoot(['apt-get', 'update', '-q']), { stdio: 'inherit' });
    execFileSync(...asRoot(['DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', 'python3-torch', 'python3-numpy']), { stdio: 'inherit' });
  } catch (e) {
    return { ok: false, why: `python3-torch is not installed and apt-get failed (${e.message.split('\n')[0]})` };
  }
  r = probe();
  return r.status === 0 ? { ok: true, version: r.stdout.trim() } : { ok: false, why: r.stderr.trim().split('\n').pop() };
}

/** Writes the model's parameters, the batch and the features where llava_step.py reads them. */
function exportStep(dir, built) {
  const { model, batch, features, spec } = built;
  const tensors = [];
  const chunks = [];
  let offset = 0;
  for (const [name, t] of Object.entries(model.stateDict())) {
    if (name.startsWith('vision_tower.')) continue; // the features stand for the frozen tower
    const values = t.dataSync();
    tensors.push({ name, shape: t.shape, offset });
    chunks.push(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
    offset += values.length;
  }
  writeFileSync(join(dir, 'weights.f32'), Buffer.concat(chunks));
  writeFileSync(join(dir, 'features.f32'), Buffer.from(features.buffer, features.byteOffset, features.byteLength));
  const manifest = {
    model: { ...spec.llm, vocab: spec.vocab, tied: false, featDim: spec.featDim },
    trains: spec.trains,
    optim: built.optim,
    tensors,
    batch: { inputIds: batch.inputIds, targets: batch.targets, weights: batch.weights, imageTokenId: spec.vocab - 1, featureShape: [spec.batch, spec.visualTokens, spec.featDim] },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

/** This project's step: trainLoop (the loop `mllm run` uses) on one fixed batch; losses and step times. */
async function projectSteps(built, steps, warmup) {
  const { model, batch, optim, tokens } = built;
  const params = model.trainableParameters();
  const losses = [];
  const times = [];
  const cpu = [];
  let cpuFrom = process.cpuUsage();
  await trainLoop({
    params,
    optim: { ...optim, steps: warmup + steps, warmup: 0, minLrRatio: 1 }, // constant lr, as the PyTorch side
    lossAt: () => ({ tokens, loss: () => model.loss(batch) }),
    onStep: (e) => {
      losses.push(e.loss);
      const used = process.cpuUsage(cpuFrom); // all threads of this process since the last step ended
      cpuFrom = process.cpuUsage();
      if (e.step < warmup) return;
      times.push(e.seconds * 1000);
      cpu.push((used.user + used.system) / 1000);
    },
  });
  return { losses, medianMs: median(times), ms: times, cpuMs: median(cpu) };
}

/** Our side of a case, in this process: export for PyTorch, then our step at each thread count. */
async function oursSide(name, dir, { steps, warmup, threads }) {
  const built = buildCase(benchCases[name]);
  exportStep(dir, built);
  const ours = {};
  let losses;
  for (const n of threads) {
    setMatMulEngine('auto', { threads: n });
    const r = await projectSteps(built, steps, warmup);
    losses ??= r.losses.slice(0, 2); // step 0 and 1 from the exported weights: the parity check
    ours[n] = { ...r, engine: matMulEngineInfo().engine };
  }
  setMatMulEngine('auto');
  return { ours, losses };
}

/**
 * One case: our step at each thread count in a child process (its wasm heap never shrinks, and a
 * 135M model's step grows it to ~4 GB), then PyTorch's, one process at a time, same weights and batch.
 */
export async function benchCase(name, { steps = 5, warmup = 2, threads = [1, 2], log = () => {} } = {}) {
  const spec = benchCases[name];
  if (!spec) throw new Error(`unknown case ${name}; one of ${Object.keys(benchCases).join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-vs-torch-'));
  try {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--ours-only', name, dir, '--steps', String(steps), '--warmup', String(warmup), '--threads', threads.join(',')], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
    if (child.status !== 0) throw new Error(`our step for ${name} failed (exit ${child.status ?? child.signal})`);
    const { ours, losses } = JSON.parse(child.stdout.trim().split('\n').pop());
    for (const [n, r] of Object.entries(ours)) log(`  ours ${n} thread(s) (${r.engine}): ${r.medianMs.toFixed(0)} ms/step`);
    const py = spawnSync('python3', [join(here, 'bench-torch', 'llava_step.py'), dir, '--threads', threads.join(','), '--steps', String(steps), '--warmup', String(warmup)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (py.status !== 0) throw new Error(`llava_step.py failed: ${py.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const torch = JSON.parse(py.stdout.trim().split('\n').pop());
    return { name, spec, flops: stepFlops(spec), ours, oursLosses: losses, torch };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatCase(r) {
  const gf = (ms) => (r.flops / (ms / 1000) / 1e9).toFixed(1);
  const torchBest = Math.min(...Object.values(r.torch.threads).map((t) => t.medianMs));
  const lines = [`${r.name}: ${r.spec.describe}; ${(r.flops / 1e9).toFixed(2)} GFLOP/step`];
  const diff = r.oursLosses.map((l, i) => Math.abs(l - r.torch.losses[i]));
  lines.push(`  loss step 0 / after one update: ours ${r.oursLosses.map((l) => l.toFixed(6)).join(' / ')}, torch ${r.torch.losses.map((l) => l.toFixed(6)).join(' / ')} (|diff| ${diff.map((d) => d.toExponential(1)).join(' / ')})`);
  const row = (who, n, t, extra = '') => `  ${who.padEnd(5)} ${n} thread(s): ${t.medianMs.toFixed(1).padStart(8)} ms  ${gf(t.medianMs).padStart(6)} GFLOP/s  cpu ${t.cpuMs.toFixed(0).padStart(6)} ms/step${extra}`;
  for (const [n, t] of Object.entries(r.ours)) lines.push(row('ours', n, t, `  ${(torchBest / t.medianMs).toFixed(2)}x torch's best; ${(r.torch.threads[n] ? r.torch.threads[n].cpuMs / t.cpuMs : NaN).toFixed(2)}x torch's cpu-ms at ${n}`));
  for (const [n, t] of Object.entries(r.torch.threads)) lines.push(row('torch', n, t));
  return lines.join('\n');
}

export async function benchVsTorch(names = Object.keys(benchCases), options = {}) {
  const torch = ensureTorch();
  if (!torch.ok) return [`PyTorch comparison skipped: ${torch.why}`];
  const out = [`against PyTorch ${torch.version} (median of ${options.steps ?? 5} steps after ${options.warmup ?? 2} warm-up; ratio = torch's best ms / ours; GFLOP/s of 2 x tokens x matMul params x (3 trained, 2 frozen on the gradient's path) + 12 x layers x seq x dim x tokens)`];
  options.log?.(out[0]);
  for (const name of names) {
    const r = await benchCase(name, { ...options, log: options.log });
    out.push(formatCase(r));
    options.log?.(out.at(-1));
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const opt = (flag, fallback) => {
    const i = args.indexOf(flag);
    if (i < 0) return fallback;
    const value = args[i + 1];
    args.splice(i, 2);
    return value;
  };
  const steps = Number(opt('--steps', 5));
  const warmup = Number(opt('--warmup', 2));
  const threads = opt('--threads', '1,2').split(',').map(Number);
  await initBackend();
  if (args[0] === '--ours-only') {
    console.log(JSON.stringify(await oursSide(args[1], args[2], { steps, warmup, threads })));
    process.exit(0);
  }
  const lines = await benchVsTorch(args.length ? args : undefined, { steps, warmup, threads, log: (s) => console.log(s) });
  if (lines.length === 1) console.log(lines[0]); // skipped
}
