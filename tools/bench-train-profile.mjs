#!/usr/bin/env node
// Where a training step's time goes, per tfjs kernel (and input shapes), plus the JS outside kernels.
// node tools/bench-train-profile.mjs [config] [stageIndex] [fast 0|1]
// node tools/bench-train-profile.mjs --case NAME: a case of tools/bench-vs-torch.mjs (e.g. smollm2-135m-instruct)
import * as tf from '@tensorflow/tfjs';
import { initBackend, setFastKernels } from '@mllm/core';
import { createComponentRegistry } from '@mllm/model';
import { StageData, parseRunConfig, runStage, trainLoop } from '@mllm/training';
import { benchCases, buildCase } from './bench-torch/cases.mjs';
import { createSession, loadConfig } from '@mllm/run';

export async function profileStage({ configPath = 'configs/default.json', stageIndex = 3, fast = true, steps = 4, overrides = {} } = {}) {
  await initBackend();
  setFastKernels(fast);
  const raw = await loadConfig(configPath);
  Object.assign(raw.llm, overrides.llm ?? {});
  const config = parseRunConfig(raw, createComponentRegistry());
  const session = createSession({ ...config, data: { ...config.data, train: 500 } });
  const data = new StageData(session.world, session.tokenizer, config.seed);
  const stage = { ...config.stages[stageIndex], steps: 2, evalEvery: 0, checkpointEvery: 0, warmup: 1 };
  await runStage(stage, stageIndex, session.model, data); // warm-up
  const t0 = performance.now();
  await runStage({ ...stage, steps }, stageIndex, session.model, data);
  const unprofiled = (performance.now() - t0) / steps;
  let wall = 0;
  const profile = await tf.profile(async () => {
    const t0 = performance.now();
    await runStage({ ...stage, steps }, stageIndex, session.model, data);
    wall = performance.now() - t0;
  });
  return summarize(profile, unprofiled, wall, steps);
}

/** The same breakdown for one step of a bench-vs-torch case (trainLoop: loss, gradients, clip, AdamW), after one warm-up step. */
export async function profileCase(name, steps = 1) {
  await initBackend();
  const built = buildCase(benchCases[name]);
  const run = (n) => trainLoop({ params: built.model.trainableParameters(), optim: { ...built.optim, steps: n, warmup: 0, minLrRatio: 1 }, lossAt: () => ({ tokens: built.tokens, loss: () => built.model.loss(built.batch) }) });
  await run(1);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await run(steps);
  const unprofiled = (performance.now() - t0) / steps;
  const cpu = process.cpuUsage(c0);
  console.log(`cpu per step: user ${(cpu.user / 1000 / steps).toFixed(0)} ms, system ${(cpu.system / 1000 / steps).toFixed(0)} ms`);
  let wall = 0;
  const profile = await tf.profile(async () => {
    const t0 = performance.now();
    await run(steps);
    wall = performance.now() - t0;
  });
  return summarize(profile, unprofiled, wall, steps);
}

function summarize(profile, unprofiled, wall, steps) {
  const byKey = new Map();
  const byName = new Map();
  const nested = (name) => name === 'unnamed scope' || name === 'backward' || name.endsWith('__op');
  for (const k of profile.kernels) {
    if (nested(k.name)) continue;
    const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join(' ')}`;
    byKey.set(key, (byKey.get(key) ?? 0) + k.kernelTimeMs);
    byName.set(k.name, byName.get(k.name) ?? { ms: 0, n: 0 });
    byName.get(k.name).ms += k.kernelTimeMs;
    byName.get(k.name).n += 1;
  }
  const kernelMs = [...byName.values()].reduce((a, b) => a + b.ms, 0);
  return { unprofiled, wall: wall / steps, kernelMs: kernelMs / steps, byName: [...byName].map(([n, v]) => [n, v.ms / steps, v.n / steps]).sort((a, b) => b[1] - a[1]), byKey: [...byKey].map(([n, v]) => [n, v / steps]).sort((a, b) => b[1] - a[1]) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [configPath = 'configs/default.json', stageIndex = '3', fast = '1'] = process.argv.slice(2);
  const r = configPath === '--case' ? await profileCase(stageIndex) : await profileStage({ configPath, stageIndex: Number(stageIndex), fast: fast === '1' });
  console.log(`per step: ${r.unprofiled.toFixed(1)} ms unprofiled; profiled wall ${r.wall.toFixed(1)} ms, in kernels ${r.kernelMs.toFixed(1)} ms (rest: JS data prep, tape, dataSync)`);
  console.log('by kernel:');
  for (const [n, ms, c] of r.byName.slice(0, 30)) console.log(`  ${n.padEnd(24)} ${ms.toFixed(2).padStart(8)} ms  ${c.toFixed(0).padStart(5)} calls`);
  console.log('by kernel and input shapes:');
  for (const [n, ms] of r.byKey.slice(0, 40)) console.log(`  ${ms.toFixed(2).padStart(8)} ms  ${n}`);
}
