import { defineConfig } from 'tsup';
import { packageBuild } from '../../tools/tsup.base';

// `@mllm/onnx/runtime` imports only onnxruntime-node, so a deployment needs no tfjs
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/runtime.ts'], external: [/^@tensorflow\//, /^@mllm\//, 'onnxruntime-node', 'onnx-proto'] }));
