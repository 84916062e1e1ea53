#!/usr/bin/env node
// Whether what the LLM reads still tells shapes apart: a linear probe (ridge regression to
// one-hot, argmax) of each Shapes cell's shape or "empty" from (a) the encoder's token for that
// cell, LayerNorm'd as the regions objective reads it, and (b) the connector's output for it.
// Fitted on 2000 training scenes, scored on 200 validation scenes. (tools/encoder-probe.mjs
// trains a probe on all encoder tokens side by side; this one reads one token per cell, where
// the connector hands it to the LLM.)
// node tools/shape-probe.mjs <run dir> [token positions of the 4 cells, CELLS order; default [0,1,2,3]]
// (a 2 x 2 tiles run with a thumbnail and merge: [1,2,4,5]; after npm run build)
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@mllm/core';
import { CELLS, SHAPES } from '@mllm/data';
import { openRun } from '@mllm/run';
await initBackend({ backend: 'wasm' });
const dir = process.argv[2];
const positions = JSON.parse(process.argv[3] ?? '[0,1,2,3]');
if (!dir || !Array.isArray(positions) || positions.length !== 4) throw new Error('usage: node tools/shape-probe.mjs <run dir> [[p0,p1,p2,p3]]');
const { model, world } = await openRun(dir);
const feats = (split, count) => {
  const scenes = world.scenes(split).slice(0, count); const n = world.imageSize;
  const enc = [], con = [], y = [];
  for (let i = 0; i < scenes.length; i += 100) {
    const part = scenes.slice(i, i + 100);
    const px = new Float32Array(part.length * n * n * 3); part.forEach((s, k) => px.set(world.image(s.id), k * n * n * 3));
    tf.tidy(() => {
      const tokens = model.encoder.encode(tf.tensor4d(px, [part.length, n, n, 3]));
      const out = model.connector.forward(tokens);
      const { mean, variance } = tf.moments(tokens, -1, true);
      const ln = tokens.sub(mean).div(variance.add(1e-5).sqrt());
      const a = ln.arraySync(), b = out.arraySync();
      part.forEach((s, k) => positions.forEach((p, c) => {
        enc.push(a[k][p]); con.push(b[k][p]);
        const o = s.objects.find((x) => x.cell === CELLS[c]); y.push(o ? 1 + SHAPES.indexOf(o.shape) : 0);
      }));
    });
  }
  return { enc, con, y };
};
const probe = (Xtr, ytr, Xte, yte) => tf.tidy(() => {
  const add1 = (X) => tf.concat([tf.tensor2d(X), tf.ones([X.length, 1])], 1);
  const A = add1(Xtr), Y = tf.oneHot(tf.tensor1d(ytr, 'int32'), 5).toFloat();
  const d = A.shape[1];
  // ridge 1: the normal equations of 1025 features are well posed with it
  const W = tf.matMul(tf.tensor2d(inv(tf.matMul(A, A, true).add(tf.eye(d)).arraySync())), tf.matMul(A, Y, true));
  const pred = tf.matMul(add1(Xte), W).argMax(1).arraySync();
  return pred.filter((p, i) => p === yte[i]).length / yte.length;
});
/** Gauss-Jordan inverse with partial pivoting (tfjs has none). */
function inv(M) {
  const n = M.length; const A = M.map((r, i) => [...r, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) { let p = c; for (let r = c + 1; r < n; r++) if (Math.abs(A[r][c]) > Math.abs(A[p][c])) p = r; [A[c], A[p]] = [A[p], A[c]];
    const v = A[c][c]; for (let j = 0; j < 2 * n; j++) A[c][j] /= v;
    for (let r = 0; r < n; r++) if (r !== c) { const f = A[r][c]; if (f) for (let j = 0; j < 2 * n; j++) A[r][j] -= f * A[c][j]; } }
  return A.map((r) => r.slice(n));
}
const tr = feats('train', 2000), te = feats('val', 200);
console.log(`${dir}: shape probe accuracy (5 classes incl. empty), encoder token (LN) ${probe(tr.enc, tr.y, te.enc, te.y).toFixed(3)}, connector output ${probe(tr.con, tr.y, te.con, te.y).toFixed(3)}; majority ${(Math.max(...[0,1,2,3,4].map((c) => te.y.filter((v) => v === c).length)) / te.y.length).toFixed(3)}`);
