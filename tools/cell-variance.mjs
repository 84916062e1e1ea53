#!/usr/bin/env node
// How much of a run's visual tokens says WHERE a token is: the share of the variance of the
// tokens the connector receives (encoder output over the test scenes) that the token's grid
// cell explains (between-cell variance / total variance), and the same for the object under
// it (what is there: shape and colour, empty cells as their own class). An LLM with rotary
// positions reads a token's content by attention; the cell must be in the token to be read.
// node tools/cell-variance.mjs <run dir>   (after npm run build; the dir needs config.json,
// tokenizer files and model.safetensors, e.g. a finished run)
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@mllm/core';
import { CELLS } from '@mllm/data';
import { openRun } from '@mllm/run';

await initBackend({ backend: 'wasm' });
const run = await openRun(process.argv[2]);
const { world } = run;
const encoder = run.model.encoder;
const scenes = world.scenes('test');
const size = world.imageSize;
const pixels = new Float32Array(scenes.length * size * size * 3);
scenes.forEach((scene, i) => pixels.set(world.image(scene.id), i * size * size * 3));
const tokens = tf.tidy(() => encoder.encode(tf.tensor4d(pixels, [scenes.length, size, size, 3])));
const [, n, d] = tokens.shape;
if (n !== CELLS.length) throw new Error(`expected one token per cell (${CELLS.length}), got ${n}: use an encoder with imageSize / patchSize = 2`);
const x = tokens.reshape([-1, d]).arraySync(); // row i: scene floor(i / 4), cell i % 4

/** Between-group variance over total variance of the rows of x, grouped by key(i). */
function explained(key) {
  const mean = new Array(d).fill(0);
  for (const row of x) row.forEach((v, j) => (mean[j] += v / x.length));
  const groups = new Map();
  x.forEach((row, i) => {
    const g = groups.get(key(i)) ?? { n: 0, sum: new Array(d).fill(0) };
    g.n++;
    row.forEach((v, j) => (g.sum[j] += v));
    groups.set(key(i), g);
  });
  let total = 0;
  for (const row of x) row.forEach((v, j) => (total += (v - mean[j]) ** 2));
  let between = 0;
  for (const g of groups.values()) g.sum.forEach((s, j) => (between += g.n * (s / g.n - mean[j]) ** 2));
  return between / total;
}

const content = (i) => {
  const o = scenes[Math.floor(i / n)].objects.find((p) => p.cell === CELLS[i % n]);
  return o ? `${o.color} ${o.shape}` : 'empty';
};
console.log(`${process.argv[2]}: share of token variance explained by the cell ${explained((i) => i % n).toFixed(3)}, by the object (colour and shape) ${explained(content).toFixed(3)} (${scenes.length} test scenes)`);
