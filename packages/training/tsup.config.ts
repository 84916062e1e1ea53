import { defineConfig } from 'tsup';
import { packageBuild } from '../../tools/tsup.base';

// dp-worker is the script DataParallel starts in each worker thread; the shared shims give the CJS build
// import.meta.url to find it. `/internal` holds what @mllm/run needs to run configs. Splitting (CJS
// too) keeps one copy of each module across the entries.
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/internal.ts', 'src/dp-worker.ts'], splitting: true }));
