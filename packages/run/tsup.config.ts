import { defineConfig } from 'tsup';
import { packageBuild } from '../../tools/tsup.base';

// dp-worker and run-child are the scripts `run` and `sweep` start in other threads and processes;
// the shared shims give the CJS build import.meta.url to find them
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/dp-worker.ts', 'src/run-child.ts'] }));
