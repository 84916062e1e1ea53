// Our BatchMatMul kernel against tfjs-wasm's on the shapes of a default instruct step (GFLOP per CPU-second,
// so other jobs on the machine matter less): node tools/bench-matmul-kernels.mjs
import * as tf from '@tensorflow/tfjs';
import { initBackend, setFastKernels } from '@mllm/core';
await initBackend({ backend: 'wasm' });
const cases = [['NT q.k^T', [128, 46, 24], [128, 46, 24], false, true], ['NN p.v', [128, 46, 46], [128, 46, 24], false, false], ['TN p^T.dy', [128, 46, 46], [128, 46, 24], true, false], ['2D x.W^T', [1472, 96], [256, 96], false, true], ['2D dy^T.x', [1472, 256], [1472, 96], true, false], ['2D plain', [1472, 96], [96, 256], false, false]];
for (const [name, sa, sb, ta, tb] of cases) {
  const a = tf.randomNormal(sa); const b = tf.randomNormal(sb);
  const out = tf.matMul(a, b, ta, tb); const flops = 2 * out.size * (ta ? sa[sa.length - 2] : sa[sa.length - 1]); out.dispose();
  const res = [];
  for (const fast of [true, false]) {
    setFastKernels(fast);
    tf.matMul(a, b, ta, tb).dispose();
    const reps = 20; const c0 = process.cpuUsage();
    for (let i = 0; i < reps; i++) tf.matMul(a, b, ta, tb).dispose();
    const c = process.cpuUsage(c0); const s = (c.user + c.system) / 1e6 / reps;
    res.push(`${fast ? 'ours' : 'tfjs'} ${(flops / s / 1e9).toFixed(2)} GFLOP/cpu-s`);
  }
  setFastKernels(true);
  console.log(name.padEnd(12), res.join('  '));
}
