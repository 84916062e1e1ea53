// The same packages through require (their CJS builds), as a CommonJS program would load them.
//   node main.cjs
import { initBackend, Rng } from '@mllm/core';
import { buildModel, createComponentRegistry } from '@mllm/model';
import { createRegistry } from '@mllm/run';

async function main(): Promise<void> {
  const backend = await initBackend({ backend: 'wasm' });
  const model = buildModel(
    { encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 1, heads: 2 }, connector: { type: 'mlp' }, llm: { type: 'causal', dim: 16, layers: 1, heads: 2 } },
    { registry: createComponentRegistry(), vocabSize: 32, special: { imageTokenId: 4, padId: 0 }, seed: 0 },
  );
  const parameters = model.numParameters();
  model.dispose();
  const registry = createRegistry();
  console.log(JSON.stringify({ backend: backend.name, parameters, draw: new Rng(1).next() >= 0, connectors: registry.connectors.types().length > 0 }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
