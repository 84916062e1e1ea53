// Training throughput per stage: plain tfjs ops, our fast kernels, and fast kernels with
// data-parallel workers, back to back on the same batches, for the default config and a wider LLM.
import * as tf from '@tensorflow/tfjs';
import { availableParallelism } from 'node:os';
import { matMulEngineInfo, setFastKernels, setMatMulEngine } from '@mllm/core';
import { createComponentRegistry } from '@mllm/model';
import { DataParallel, StageData, parseRunConfig, runStage, shardableStage } from '@mllm/training';
import { createSession, loadConfig } from '@mllm/run';

/**
 * The best 2-D matMul rate (GFLOP/s) on square sizes of each engine our kernels can use: tfjs-wasm's
 * XNNPACK (one thread) and onnxruntime's GEMM on 1 and on all cores (when installed).
 */
export function matMulPeaks() {
  const peaks = { wasm: undefined, onnxruntime1: undefined, onnxruntimeAll: undefined };
  try {
    setMatMulEngine('wasm');
    peaks.wasm = matMulPeak();
    if (tf.getBackend() === 'wasm') {
      setMatMulEngine('auto', { threads: 1 });
      if (matMulEngineInfo().engine === 'onnxruntime') {
        peaks.onnxruntime1 = matMulPeak();
        setMatMulEngine('auto', { threads: availableParallelism() });
        peaks.onnxruntimeAll = matMulPeak();
      }
    }
  } finally {
    setMatMulEngine('auto');
  }
  return peaks;
}

/** The current engine's best 2-D matMul rate (GFLOP/s) on square sizes. */
export function matMulPeak() {
  const results = [];
  for (const n of [256, 512, 1024]) {
    const a = tf.randomNormal([n, n]);
    const b = tf.randomNormal([n, n]);
    tf.matMul(a, b).dispose();
    const reps = n >= 1024 ? 3 : 10;
    const times = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      tf.matMul(a, b).dataSync();
      times.push((performance.now() - t0) / 1000);
    }
    results.push((2 * n ** 3) / Math.min(...times) / 1e9);
    a.dispose();
    b.dispose();
  }
  return Math.max(...results);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** FLOPs of one step: 6 x trained-path parameters x tokens plus attention scores and mixing (12 x layers x T x D per token). */
function stepFlops(model, stage, tokens) {
  const isEncoder = stage.type === 'pretrain-encoder';
  const layers = isEncoder ? model.encoder.config.layers : model.llm.numLayers;
  const width = isEncoder ? model.encoder.outputDim : model.llm.dim;
  const seq = tokens / stage.batchSize;
  const params = isEncoder ? model.encoder.numParameters() : model.llm.numParameters() + model.connector.numParameters();
  return (6 * params + 12 * layers * seq * width) * tokens;
}

/**
 * Rows { config, stage, mode, tokensPerStep, msPerStep, tokensPerSecond, gflops } for each stage
 * (DPO/reward/PPO left out: they run in one process and need an alignment context) and each mode.
 */
export async function benchTraining({ label, configPath = 'configs/default.json', llm, steps = 12, plainSteps = steps, warmup = 2, workers = Math.min(2, availableParallelism()), log = () => {} }) {
  const raw = await loadConfig(configPath);
  if (llm) raw.llm = { ...raw.llm, ...llm };
  const config = parseRunConfig(raw, createComponentRegistry());
  const session = createSession({ ...config, data: { ...config.data, train: 500 } });
  const { model, tokenizer, world } = session;
  const data = new StageData(world, tokenizer, config.seed);
  const parallel =
    workers > 1
      ? await DataParallel.start({
          workers,
          backend: tf.getBackend(),
          model: { config, vocabSize: tokenizer.vocabSize, special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: config.seed },
        })
      : undefined;
  const rows = [];
  try {
    for (const [i, stage] of config.stages.entries()) {
      if (stage.type === 'dpo' || stage.type === 'reward' || stage.type === 'ppo') continue;
      const shardable = shardableStage(stage);
      // [label, fast kernels, matMul engine and its threads, data-parallel]
      const cores = availableParallelism();
      const modes = [
        ['tfjs', false, 'wasm', 1, false],
        ['wasm', true, 'wasm', 1, false],
        ['fast', true, 'auto', cores, false],
        ...(parallel && shardable ? [[`fast+${workers}w`, true, 'auto', 1, true]] : []),
      ];
      for (const [mode, fast, engine, threads, useWorkers] of modes) {
        setFastKernels(fast);
        setMatMulEngine(engine, { threads });
        const timed = fast ? steps : plainSteps; // stock tfjs on a wide model takes tens of seconds a step
        const times = [];
        const flops = [];
        let tokens = 0;
        let cpuFrom;
        let cpuTo;
        await runStage({ ...stage, steps: timed + warmup, evalEvery: 0, checkpointEvery: 0, warmup: 1 }, i, model, data, {
          ...(useWorkers && { parallel }),
          microBatches: fast, // the stock baseline trains the batch as collated
          onStep: (e) => {
            if (e.step === warmup - 1) cpuFrom = process.cpuUsage();
            if (e.step === warmup + timed - 1) cpuTo = process.cpuUsage(cpuFrom);
            if (e.step < warmup) return;
            times.push(e.seconds);
            tokens += e.tokens;
            flops.push(stepFlops(model, stage, e.tokens));
          },
        });
        const ms = median(times) * 1000;
        const seconds = times.reduce((a, b) => a + b, 0);
        const flopsTotal = flops.reduce((a, b) => a + b, 0);
        // rates over all timed steps (total work / total time), so whole-training sums add up
        const row = { config: label, stage: `${i}-${stage.type}`, steps: stage.steps, batchSize: stage.batchSize, flopsPerStep: flopsTotal / times.length, secondsPerStep: seconds / times.length, mode, engine: fast ? matMulEngineInfo() : { engine: 'wasm', threads: 1 }, tokensPerStep: Math.round(tokens / times.length), msPerStep: ms, tokensPerSecond: tokens / seconds, gflops: flopsTotal / seconds / 1e9 };
        // CPU time of all threads: on a machine other jobs share, GFLOP per CPU-second is what a quiet core would do
        row.cpuMsPerStep = (cpuTo.user + cpuTo.system) / 1000 / timed;
        row.gflopsPerCpuSecond = row.flopsPerStep / (row.cpuMsPerStep / 1000) / 1e9;
        rows.push(row);
        log(row);
      }
    }
  } finally {
    setFastKernels(true);
    setMatMulEngine('auto');
    await parallel?.close();
    model.dispose();
  }
  return rows;
}

/**
 * Per config and mode: the training stages weighted by their step counts in the config (what
 * `mllm run` spends), as estimated seconds and achieved GFLOP/s; a stage without a workers row
 * counts with its single-process row, as the CLI runs it.
 */
export function summarizeTraining(rows) {
  const lines = ['', 'whole training (stages above weighted by the config\'s step counts; DPO not included):'];
  for (const label of [...new Set(rows.map((r) => r.config))]) {
    const mine = rows.filter((r) => r.config === label);
    const modes = [...new Set(mine.map((r) => r.mode))];
    const totals = {};
    for (const mode of modes) {
      let seconds = 0;
      let flops = 0;
      for (const stage of [...new Set(mine.map((r) => r.stage))]) {
        const row = mine.find((r) => r.stage === stage && r.mode === mode) ?? mine.find((r) => r.stage === stage && r.mode === 'fast');
        seconds += row.steps * row.secondsPerStep;
        flops += row.steps * row.flopsPerStep;
      }
      totals[mode] = { seconds, gflops: flops / seconds / 1e9 };
    }
    for (const mode of modes)
      lines.push(`  ${label.padEnd(10)} ${mode.padEnd(8)} ~${totals[mode].seconds.toFixed(0).padStart(5)} s  ${totals[mode].gflops.toFixed(2).padStart(6)} GFLOP/s  ${(totals[mode].gflops / totals.tfjs.gflops).toFixed(2)}x tfjs`);
  }
  return lines.join('\n');
}

export function formatTrainingRow(r, peak) {
  return `${r.config.padEnd(10)} ${r.stage.padEnd(18)} ${r.mode.padEnd(8)} ${String(r.tokensPerStep).padStart(7)} ${r.msPerStep.toFixed(0).padStart(8)} ${Math.round(r.tokensPerSecond).toString().padStart(9)} ${r.gflops.toFixed(2).padStart(8)} ${((100 * r.gflops) / peak).toFixed(1).padStart(7)} ${r.cpuMsPerStep.toFixed(0).padStart(8)} ${r.gflopsPerCpuSecond.toFixed(2).padStart(9)}`;
}
export const TRAINING_HEADER = 'config     stage              mode     tok/step  ms/step  tokens/s  GFLOP/s   %peak cpu-ms/st  GFLOP/cpu-s';
