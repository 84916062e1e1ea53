import { defineConfig } from 'tsup';
import { packageBuild } from '../../tools/tsup.base';

// dp-worker is the script DataParallel starts in each worker thread; shims give the CJS build import.meta.url to find it
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/dp-worker.ts'], shims: true }));
