#!/usr/bin/env node
// The decode step's weight MatMuls alone, on onnxruntime: the 135M model's 30 layers of q/k/v,
// o, gate/up and down projections chained as one token passes through them (a Slice keeps the
// chain's widths, an Add the residual), then the LM head; random weights, batch 1. Whatever else a
// decode graph runs (attention, norms, rotary, the cache) adds to this, so its tokens per second
// are the ceiling of any graph of these weights on this runtime, set against the bandwidth bound
// that tools/bench-onnx-decode.mjs measures.
//   node tools/bench-onnx-matmul-floor.mjs
import * as ort from 'onnxruntime-node';
import { Rng } from '@mllm/core';
import { GraphBuilder } from '@mllm/onnx';
import { pathToFileURL } from 'node:url';
import { SMOLLM2_VOCAB } from './bench-onnx-decode.mjs';

const [H, I, Q, L] = [576, 1536, 576 + 2 * 192, 30];

/** The floor graph and its weight bytes: seeded uniform weights in [-0.01, 0.01) (the time of a MatMul does not depend on them). */
export function floorGraph() {
  const rng = new Rng(0);
  const random = (n) => Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 0.02);
  const g = new GraphBuilder('matmul-floor');
  let x = g.input('x', 'float32', [1, H]);
  let bytes = 0;
  const matmul = (input, name, rows, cols) => {
    bytes += 4 * rows * cols;
    return g.op('MatMul', [input, g.floatTensor(name, random(rows * cols), [rows, cols])]);
  };
  const first = (input, n) => g.op('Slice', [input, g.constInt64([0]), g.constInt64([n]), g.constInt64([1])]);
  for (let l = 0; l < L; l++) {
    const o = matmul(first(matmul(x, `qkv${l}`, H, Q), H), `o${l}`, H, H);
    const down = matmul(first(matmul(o, `gate_up${l}`, H, 2 * I), I), `down${l}`, I, H);
    x = g.op('Add', [x, down]);
  }
  g.output(matmul(x, 'lm_head', H, SMOLLM2_VOCAB), 'logits', 'float32', [1, SMOLLM2_VOCAB]);
  return { model: g.serialize(), bytes, input: random(H) };
}

/** A session of the floor graph on `threads` intra-op threads; `time(n)` is the median ms of n runs. */
export async function matmulFloor(threads) {
  const { model, bytes, input } = floorGraph();
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const feeds = { x: new ort.Tensor('float32', input, [1, H]) };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  return {
    bytes,
    async time(n = 31) {
      const times = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await session.run(feeds);
        times.push(performance.now() - t);
      }
      return times.sort((a, b) => a - b)[Math.floor(n / 2)];
    },
    release: () => session.release(),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  for (const threads of [1, 2]) {
    const floor = await matmulFloor(threads);
    const ms = await floor.time();
    console.log(`${threads} intra-op thread(s): ${ms.toFixed(2)} ms per token, ${(floor.bytes / ms / 1e6).toFixed(1)} GB/s of weights, ${(1000 / ms).toFixed(1)} tok/s (${(floor.bytes / 1e6).toFixed(0)} MB of MatMul weights)`);
    await floor.release();
  }
