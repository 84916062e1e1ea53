// A whole program that starts data-parallel workers and closes them (MLLM_TEST_WORKER_URL,
// MLLM_TEST_TRANSPORT): it must print "closed" and exit 0, not leave on an unsettled await.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@mllm/core';
import { DataParallel, type DataParallelTransport } from './data-parallel';

await initBackend({ backend: 'wasm' });
const parallel = await DataParallel.start({
  workers: 2,
  backend: tf.getBackend(),
  workerUrl: process.env.MLLM_TEST_WORKER_URL!,
  transport: process.env.MLLM_TEST_TRANSPORT as DataParallelTransport,
  model: { config: { encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16 }, connector: { type: 'mlp' }, llm: { type: 'causal', dim: 32, layers: 1, heads: 2 } }, vocabSize: 20, special: { imageTokenId: 3, padId: 0 }, seed: 0 },
});
await parallel.close();
console.log('closed');
