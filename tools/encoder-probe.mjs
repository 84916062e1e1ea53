#!/usr/bin/env node
// Linear probe: how well a run's frozen encoder tokens tell the shape of each cell's object
// (tokens: all tokens side by side; pooled: the pooled vector), or (position) which of the N
// token positions a single layer-normalised token came from: what a query connector, whose
// attention cannot see token order, has to go on.
// node tools/encoder-probe.mjs <run dir> [tokens|pooled|position]   (after npm run build)
import * as tf from '@tensorflow/tfjs';
import { initBackend, Rng, Linear } from '@mllm/core';
import { CELLS, SHAPES } from '@mllm/data';
import { AdamW } from '@mllm/training';
import { openRun } from '@mllm/run';
await initBackend({ backend: 'wasm' });
const s = await openRun(process.argv[2]);
const enc = s.model.encoder, world = s.world;
const rng = new Rng(1);
const mode = process.argv[3] ?? 'tokens';
if (mode === 'position') {
  await positionProbe();
  process.exit(0);
}
const featDim = mode === 'pooled' ? enc.outputDim : enc.outputDim * enc.numTokens;
const head = new Linear(featDim, 4 * 5, rng);
const params = head.namedParameters();
const opt = new AdamW(params, {});
const labels = (sc) => CELLS.map((c) => { const o = sc.objects.find((o) => o.cell === c); return o ? 1 + SHAPES.indexOf(o.shape) : 0; });
const n = world.imageSize;
function feats(scenes) {
  const px = new Float32Array(scenes.length * n * n * 3);
  scenes.forEach((sc, i) => px.set(world.image(sc.id), i * n * n * 3));
  return tf.tidy(() => { const x = tf.tensor4d(px, [scenes.length, n, n, 3]); return mode === 'pooled' ? enc.pooled(x) : enc.encode(x).reshape([scenes.length, -1]); });
}
const train = world.scenes('train').slice(0, 2000), test = world.scenes('test');
const Xtr = tf.concat(Array.from({ length: 20 }, (_, i) => feats(train.slice(i * 100, i * 100 + 100))));
const Ytr = train.map(labels).flat();
const Xte = feats(test), Yte = test.map(labels).flat();
const mean = Xtr.mean(0), std = Xtr.sub(mean).square().mean(0).sqrt().add(1e-5);
const norm = (x) => x.sub(mean).div(std);
for (let step = 0; step < 400; step++) {
  const idx = Array.from({ length: 128 }, () => Math.floor(rng.next() * train.length));
  const yt = tf.tidy(() => tf.oneHot(tf.tensor1d(idx.flatMap((i) => Ytr.slice(i * 4, i * 4 + 4)), 'int32'), 5).toFloat());
  const x = tf.tidy(() => norm(tf.gather(Xtr, idx)));
  const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(yt, head.forward(x).reshape([-1, 5])), params.map(([, p]) => p));
  opt.apply(new Map(params.map(([nm, p]) => [nm, grads[p.name]])), 3e-3);
  tf.dispose([x, yt, value, ...Object.values(grads)]);
}
const pred = tf.tidy(() => head.forward(norm(Xte)).reshape([-1, 5]).argMax(-1).arraySync());
let occ = 0, ok = 0;
Yte.forEach((v, i) => { if (v > 0) { occ++; if (pred[i] === v) ok++; } });
console.log(process.argv[2], mode, 'linear probe shape acc', (ok / occ).toFixed(3));

async function positionProbe() {
  const n = world.imageSize, N = enc.numTokens, D = enc.outputDim;
  const tokens = (scenes) => {
    const px = new Float32Array(scenes.length * n * n * 3);
    scenes.forEach((sc, i) => px.set(world.image(sc.id), i * n * n * 3));
    return tf.tidy(() => tf.layers.layerNormalization({ center: false, scale: false }).apply(enc.encode(tf.tensor4d(px, [scenes.length, n, n, 3]))).reshape([-1, D]));
  };
  const train = world.scenes('train').slice(0, 1000), test = world.scenes('test');
  const Xtr = tf.concat(Array.from({ length: 10 }, (_, i) => tokens(train.slice(i * 100, i * 100 + 100))));
  const Xte = tokens(test);
  const head = new Linear(D, N, rng);
  const params = head.namedParameters();
  const opt = new AdamW(params, {});
  for (let step = 0; step < 400; step++) {
    const idx = Array.from({ length: 256 }, () => Math.floor(rng.next() * Xtr.shape[0]));
    const yt = tf.tidy(() => tf.oneHot(tf.tensor1d(idx.map((i) => i % N), 'int32'), N).toFloat());
    const x = tf.gather(Xtr, idx);
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(yt, head.forward(x)), params.map(([, p]) => p));
    opt.apply(new Map(params.map(([nm, p]) => [nm, grads[p.name]])), 3e-3);
    tf.dispose([x, yt, value, ...Object.values(grads)]);
  }
  const pred = tf.tidy(() => head.forward(Xte).argMax(-1).arraySync());
  const acc = pred.filter((p, i) => p === i % N).length / pred.length;
  console.log(process.argv[2], 'position', `linear probe: token position (1 of ${N}) acc`, acc.toFixed(3), `(chance ${(1 / N).toFixed(3)})`);
}
