import { OnnxMultimodalModel } from '@mllm/onnx/runtime';
const dir = process.argv[2] ?? '/tmp/onnxsize/m135';
const threads = process.argv[3] ? Number(process.argv[3]) : undefined;
const P = Number(process.argv[4] ?? 16);
const ort = await OnnxMultimodalModel.load(dir, threads ? { threads } : {});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ids = Array.from({ length: P }, (_, i) => 8 + ((i * 7919) % 49000));
const mask = [ids.map(() => 1)];
let { logits, past } = await ort.decode(await ort.embed([ids]), mask);
const times = [];
for (let s = 0; s < 12; s++) {
  const t = performance.now();
  mask[0].push(1);
  ({ logits, past } = await ort.decode(await ort.embed([[100 + s]]), mask, past));
  times.push(performance.now() - t);
}
console.log(`threads ${threads ?? 'default'} P ${P}: median ${median(times).toFixed(1)} ms/token = ${(1000 / median(times)).toFixed(1)} tok/s; min ${Math.min(...times).toFixed(1)}`);
