#!/usr/bin/env node
// Where an attribute gets lost between the image and the LLM: for each object of 1500 training
// scenes, the token of its cell from the frozen encoder and from the connector (what the LLM
// reads), and how far apart the tokens of the attribute's two values lie: the distance between
// the two class means over the tokens' overall spread (0: not told apart at all). An attribute
// the encoder separates but the connector squashes reaches the LLM as a faint direction.
//   node tools/attribute-separation.mjs RUN [RUN ...]
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@mllm/core';
import { CELLS } from '@mllm/data';
import { openRun } from '@mllm/run';

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error('usage: node tools/attribute-separation.mjs <run folder> [more run folders]');
  process.exit(1);
}
await initBackend({ backend: 'wasm' });
// each attribute as a two-way split of the objects
const ATTRIBUTES = { size: (o) => o.size === 'large', red: (o) => o.color === 'red', circle: (o) => o.shape === 'circle' };

function separation(rows, labels) {
  const d = rows[0].length;
  const mean = (xs) => Array.from({ length: d }, (_, k) => xs.reduce((a, x) => a + x[k], 0) / xs.length);
  const [m1, m0, mu] = [mean(rows.filter((_, i) => labels[i])), mean(rows.filter((_, i) => !labels[i])), mean(rows)];
  const between = Math.sqrt(m1.reduce((a, v, k) => a + (v - m0[k]) ** 2, 0));
  const spread = Math.sqrt(rows.reduce((a, x) => a + x.reduce((b, v, k) => b + (v - mu[k]) ** 2, 0), 0) / rows.length);
  return between / spread;
}

console.log(`| run | tokens | ${Object.keys(ATTRIBUTES).join(' | ')} |`);
console.log(`|---|---|${Object.keys(ATTRIBUTES).map(() => '---:').join('|')}|`);
for (const dir of dirs) {
  const run = await openRun(dir);
  const scenes = run.world.scenes('train').slice(0, 1500);
  const pixels = run.model.imagesToTensor(scenes.map((s) => run.world.image(s.id)));
  const views = { encoder: run.model.encoder.encode(pixels), connector: run.model.encodeImages(pixels) };
  for (const [name, tokens] of Object.entries(views)) {
    if (tokens.shape[1] !== CELLS.length) throw new Error(`${dir}: ${tokens.shape[1]} ${name} tokens per image; this probe reads one token per cell (a 2 x 2 grid)`);
    const all = tokens.arraySync();
    const objects = scenes.flatMap((s, i) => s.objects.map((o) => ({ o, row: all[i][CELLS.indexOf(o.cell)] })));
    const cols = Object.values(ATTRIBUTES).map((is) => separation(objects.map((x) => x.row), objects.map((x) => is(x.o))).toFixed(3));
    console.log(`| ${dir} (seed ${run.config.seed}) | ${name} | ${cols.join(' | ')} |`);
  }
  tf.dispose([pixels, ...Object.values(views)]);
  run.dispose();
}
