import { defineConfig } from 'tsup';
import { packageBuild } from '../../tools/tsup.base';

// `@mllm/llm/decoding` imports no tfjs (only `@mllm/core/rng`): the ONNX runtime picks tokens with it.
// `/internal` holds what @mllm/model needs of generation. Splitting (CJS too) keeps one copy of each
// module across the entries.
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/decoding.ts', 'src/internal.ts'], splitting: true }));
