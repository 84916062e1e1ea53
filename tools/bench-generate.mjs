#!/usr/bin/env node
// Generation throughput of an LLM (random weights are fine: speed does not depend on them):
// new tokens per second with the KV cache and without it (the whole sequence recomputed every
// step, HF use_cache=False), greedy, batch 1, at several prompt lengths. The time covers the
// prefill and every step. `node tools/bench-generate.mjs [config.json]` after a build, or part of
// `npm run bench`.
import * as tf from '@tensorflow/tfjs';
import { pathToFileURL } from 'node:url';
import { Rng, initBackend } from '@mllm/core';
import { CausalLM, causalLmSchema, generateFromEmbeddings } from '@mllm/llm';
import { loadConfig } from '@mllm/run';

const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Median seconds of each function over `reps` rounds after one warm-up each; the functions take
 * turns within a round, so a load change on a shared machine hits both alike.
 */
function timeInTurns(fns, reps) {
  for (const fn of fns) fn();
  const times = fns.map(() => []);
  for (let r = 0; r < reps; r++)
    fns.forEach((fn, i) => {
      const t0 = performance.now();
      fn();
      times[i].push((performance.now() - t0) / 1000);
    });
  return times.map(median);
}

/** Rows { promptLength, cached, recomputed } in new tokens per second. */
export function benchGenerate({ lm, promptLengths = [16, 256], newTokens = 32, reps = 5 }) {
  const rng = new Rng(1);
  return promptLengths.map((promptLength) => {
    const ids = [Array.from({ length: promptLength }, () => rng.int(lm.vocabSize))];
    const embeds = lm.embed(tf.tensor2d(ids, [1, promptLength], 'int32'));
    const prompt = { embeds, attentionMask: [ids[0].map(() => 1)], inputIds: ids };
    const run = (useCache) => () => generateFromEmbeddings(lm, prompt, { maxNewTokens: newTokens, useCache });
    const [cached, recomputed] = timeInTurns([run(true), run(false)], reps);
    const row = { promptLength, newTokens, cached: newTokens / cached, recomputed: newTokens / recomputed };
    embeds.dispose();
    return row;
  });
}

export function formatGenerateBench(rows, lm) {
  const head = `generation, ${lm.config ? `llm dim ${lm.config.dim} x ${lm.config.layers} layers, ` : ''}vocab ${lm.vocabSize}, batch 1, greedy, ${rows[0].newTokens} new tokens (prefill included)`;
  const lines = rows.map(
    (r) => `${String(r.promptLength).padStart(13)} ${r.cached.toFixed(1).padStart(16)} ${r.recomputed.toFixed(1).padStart(19)} ${(r.cached / r.recomputed).toFixed(1).padStart(8)}x`,
  );
  return [head, 'prompt tokens  KV cache tok/s  recompute tok/s  speed-up', ...lines].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const backend = await initBackend();
  const config = await loadConfig(process.argv[2] ?? 'configs/default.json');
  // the default run's word vocabulary is ~60 words; BENCH_VOCAB=32000 shows a LLaMA-sized head
  const lm = new CausalLM(causalLmSchema.parse(config.llm), Number(process.env.BENCH_VOCAB ?? 64), new Rng(0));
  console.log(`backend ${backend.name} (${backend.provider})`);
  console.log(formatGenerateBench(benchGenerate({ lm }), lm));
}
