import { buildModel, createComponentRegistry } from '@mllm/model';
import { initBackend } from '@mllm/core';
import { exportModel, OnnxMultimodalModel } from '@mllm/onnx';
const dir = process.argv[2] ?? '/tmp/onnxsize/m135';
const weights = process.argv[3] ?? 'fp32';
const t0 = performance.now();
await initBackend({ backend: 'cpu' });
const model = buildModel({
  encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 32, layers: 1, heads: 2 },
  connector: { type: 'mlp' },
  llm: { type: 'causal', dim: 576, layers: 30, heads: 9, kvHeads: 3, mlpHidden: 1536 },
}, { registry: createComponentRegistry(), vocabSize: 49152, special: { imageTokenId: 4, padId: 0 }, seed: 0 });
console.log('built', ((performance.now() - t0) / 1000).toFixed(1), 's', model.llm.numParameters());
await exportModel(model, dir, { maxPositions: 1024, weights });
console.log('exported', ((performance.now() - t0) / 1000).toFixed(1), 's', process.memoryUsage().rss / 1e9);
