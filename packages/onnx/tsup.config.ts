import { defineConfig } from 'tsup';
import { packageBuild } from '../../tools/tsup.base';

// `@mllm/onnx/runtime` imports only onnxruntime-node, so a deployment needs no tfjs;
// `@mllm/onnx/graph` (exporters' building blocks) imports no onnxruntime, so a plugin loads it anywhere
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/runtime.ts', 'src/graph.ts'], external: [/^@tensorflow\//, /^@mllm\//, 'onnxruntime-node', 'onnx-proto'] }));
