#!/usr/bin/env node
// Dense vs Mixture-of-Experts feed-forward: training step time (forward + backward, the LM loss
// plus the aux loss) of the default config's LLM (dim 96, 2 layers, 4 heads) with its dense
// SwiGLU, with 8 experts top-2 (Mixtral) and 8 experts top-8 (every expert on every token, what a
// dense-times-mask MoE would compute), and the feed-forward FLOPs per token actually done,
// counted from the expert rows the router dispatched. `node tools/bench-moe.mjs` after a build,
// or part of `npm run bench`.
import * as tf from '@tensorflow/tfjs';
import { pathToFileURL } from 'node:url';
import { Rng, initBackend, maskedCrossEntropy } from '@mllm/core';
import { CausalLM, causalLmSchema } from '@mllm/llm';

const VARIANTS = [
  { name: 'dense SwiGLU', ffn: { type: 'dense' } },
  { name: 'MoE top-2 of 8', ffn: { type: 'moe', experts: 8, topK: 2 } },
  { name: 'MoE top-8 of 8', ffn: { type: 'moe', experts: 8, topK: 8 } },
];

/** Rows { name, params, msPerStep, tokensPerSecond, ffnFlopsPerToken, expertsPerToken } for one batch shape. */
export function benchMoe({ dim = 96, layers = 2, heads = 4, vocab = 60, batch = 32, seq = 40, steps = 8 } = {}) {
  const hidden = Math.round((dim * 8) / 3);
  const rng = new Rng(1);
  const ids = Array.from({ length: batch }, () => Array.from({ length: seq + 1 }, () => rng.int(vocab)));
  const input = tf.tensor2d(ids.map((r) => r.slice(0, seq)), [batch, seq], 'int32');
  const targets = tf.tensor1d(ids.flatMap((r) => r.slice(1)), 'int32');
  const weights = tf.ones([batch * seq]);
  return VARIANTS.map(({ name, ffn }) => {
    const lm = new CausalLM(causalLmSchema.parse({ type: 'causal', dim, layers, heads, ffn }), vocab, new Rng(2));
    const vars = lm.trainableParameters().map(([, p]) => p);
    let expertRows = 0;
    const step = () => {
      const { value, grads } = tf.variableGrads(() => {
        const { logits, aux } = lm.forward(lm.embed(input));
        const loss = maskedCrossEntropy(logits.reshape([batch * seq, vocab]), targets, weights);
        if (aux) expertRows = aux.expertRows;
        return aux ? loss.add(aux.loss) : loss;
      }, vars);
      value.dataSync();
      value.dispose();
      tf.dispose(grads);
    };
    step();
    const times = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      step();
      times.push((performance.now() - t0) / 1000);
    }
    const median = times.sort((a, b) => a - b)[Math.floor(steps / 2)];
    const tokens = batch * seq;
    // forward matMul FLOPs of one SwiGLU on one row: gate, up (D x H each) and down (H x D)
    const expertFlops = 3 * 2 * dim * hidden;
    const expertsPerToken = ffn.type === 'moe' ? expertRows / (tokens * layers) : 1;
    const routerFlops = ffn.type === 'moe' ? 2 * dim * ffn.experts : 0;
    const row = {
      name,
      params: lm.numParameters(),
      msPerStep: median * 1000,
      tokensPerSecond: tokens / median,
      expertsPerToken,
      ffnFlopsPerToken: layers * (expertsPerToken * expertFlops + routerFlops),
    };
    lm.dispose();
    return row;
  });
}

export function formatMoeBench(rows, { batch = 32, seq = 40 } = {}) {
  const dense = rows[0];
  const lines = [
    `MoE vs dense feed-forward, training step (forward + backward) of the default LLM, batch ${batch} x ${seq} tokens; FFN FLOPs are forward matMuls per token over all layers`,
    'variant            params   ms/step  tokens/s  experts/token  FFN MFLOP/token  vs dense',
  ];
  for (const r of rows)
    lines.push(
      `${r.name.padEnd(16)} ${String(r.params).padStart(8)} ${r.msPerStep.toFixed(0).padStart(9)} ${Math.round(r.tokensPerSecond).toString().padStart(9)} ${r.expertsPerToken.toFixed(2).padStart(14)} ${(r.ffnFlopsPerToken / 1e6).toFixed(3).padStart(16)} ${(r.ffnFlopsPerToken / dense.ffnFlopsPerToken).toFixed(2).padStart(8)}x`,
    );
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const backend = await initBackend();
  console.log(`backend ${backend.name} (${backend.provider})`);
  console.log(formatMoeBench(benchMoe({ steps: Number(process.env.BENCH_STEPS ?? 8) })));
}
