#!/usr/bin/env node
// Supervised ceiling: a ViT trained from scratch with per-cell shape labels and a linear head.
// node tools/encoder-ceiling.mjs '<vit config json>' [steps] [tokens|pooled]   (after npm run build)
import * as tf from '@tensorflow/tfjs';
import { initBackend, Rng, Linear } from '@mllm/core';
import { ShapesWorld, CELLS, SHAPES } from '@mllm/data';
import { VisionTransformer, vitSchema } from '@mllm/encoders';
import { AdamW } from '@mllm/training';
await initBackend({ backend: 'wasm' });
const cfg = vitSchema.parse(JSON.parse(process.argv[2]));
const steps = Number(process.argv[3] ?? 300);
const world = new ShapesWorld({ seed: 0, imageSize: cfg.imageSize, sizes: { train: 4000, val: 0, test: 400 } });
const rng = new Rng(1);
const enc = new VisionTransformer(cfg, rng);
const mode = process.argv[4] ?? 'tokens';
const head = new Linear(mode === 'pooled' ? cfg.dim : cfg.dim * enc.numTokens, 4 * 5, rng);
const params = [...enc.namedParameters(), ...head.namedParameters().map(([n, p]) => ['h.' + n, p])];
const opt = new AdamW(params, { weightDecay: 0.01 });
const labels = (s) => CELLS.map((c) => { const o = s.objects.find((o) => o.cell === c); return o ? 1 + SHAPES.indexOf(o.shape) : 0; });
function batch(scenes) {
  const b = scenes.length, n = cfg.imageSize;
  const px = new Float32Array(b * n * n * 3);
  scenes.forEach((s, i) => px.set(world.image(s.id), i * n * n * 3));
  return { x: tf.tensor4d(px, [b, n, n, 3]), y: scenes.map(labels).flat() };
}
const fwd = (x) => head.forward(mode === 'pooled' ? enc.pooled(x) : enc.encode(x).reshape([x.shape[0], -1])).reshape([-1, 5]);
const train = world.scenes('train');
const t0 = Date.now();
for (let step = 0; step < steps; step++) {
  const sc = Array.from({ length: 64 }, () => train[Math.floor(rng.next() * train.length)]);
  const { x, y } = batch(sc);
  const yt = tf.oneHot(tf.tensor1d(y, 'int32'), 5).toFloat();
  const lr = 2e-3 * Math.min(1, (step + 1) / 30) * 0.5 * (1 + Math.cos(Math.PI * step / steps));
  const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(yt, fwd(x)), params.map(([, p]) => p));
  const g = new Map(params.map(([name, p]) => [name, grads[p.name]]));
  opt.apply(g, lr);
  if (step % 50 === 0) console.log(step, value.dataSync()[0].toFixed(3));
  tf.dispose([x, yt, value, ...Object.values(grads)]);
}
const test = world.scenes('test');
const { x, y } = batch(test);
const pred = tf.tidy(() => fwd(x).argMax(-1).arraySync());
let occ = 0, ok = 0;
y.forEach((v, i) => { if (v > 0) { occ++; if (pred[i] === v) ok++; } });
console.log(JSON.stringify(cfg), 'steps', steps, mode, 'shape acc (occupied cells)', (ok / occ).toFixed(3), `${((Date.now() - t0) / 1000).toFixed(0)}s`);
