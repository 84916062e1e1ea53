import { defineConfig } from 'tsup';
import { packageBuild } from '../../tools/tsup.base';

// `/internal` holds what @mllm/training and @mllm/run share with this package. Splitting (CJS too)
// keeps one copy of each module across the entries.
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/internal.ts'], splitting: true }));
