import { defineConfig } from 'tsup';
import { packageBuild } from '../../tools/tsup.base';

// `@mllm/onnx/runtime` imports only onnxruntime-node, zod, onnx-proto and the tfjs-free
// `@mllm/llm/decoding` (whose only import is `@mllm/core/rng`), so a deployment needs no tfjs; `@mllm/onnx/graph` (exporters'
// building blocks) imports no onnxruntime, so a plugin loads it anywhere. Splitting (CJS too) keeps
// one copy of each module across the entries.
export default defineConfig(
  packageBuild({ entry: ['src/index.ts', 'src/runtime.ts', 'src/graph.ts'], external: [/^@tensorflow\//, /^@mllm\//, 'onnxruntime-node', 'onnx-proto', 'zod'], splitting: true }),
);
