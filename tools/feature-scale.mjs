#!/usr/bin/env node
// How large what the LLM reads from an image is next to its text: mean L2 norm of a run's
// encoder tokens, of the connector's outputs, and of the LLM's token-embedding rows, over 32
// test scenes. node tools/feature-scale.mjs <run dir>...   (after npm run build)
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@mllm/core';
import { openRun } from '@mllm/run';
await initBackend({ backend: 'wasm' });
const meanNorm = (t) => tf.tidy(() => tf.norm(t, 'euclidean', -1).mean().dataSync()[0]).toFixed(2);
for (const dir of process.argv.slice(2)) {
  const { model, world } = await openRun(dir);
  const scenes = world.scenes('test').slice(0, 32);
  const n = world.imageSize;
  const px = new Float32Array(scenes.length * n * n * 3);
  scenes.forEach((scene, i) => px.set(world.image(scene.id), i * n * n * 3));
  const tokens = model.encoder.encode(tf.tensor4d(px, [scenes.length, n, n, 3]));
  const projected = model.connector.forward(tokens);
  const embedding = model.llm.namedParameters().find(([name]) => name.includes('embed_tokens'))[1];
  console.log(`${dir}: encoder tokens [${tokens.shape}] L2 ${meanNorm(tokens)}; connector outputs [${projected.shape}] L2 ${meanNorm(projected)}; text embeddings L2 ${meanNorm(embedding)}`);
}
