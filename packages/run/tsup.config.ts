import { defineConfig } from 'tsup';
import { packageBuild } from '../../tools/tsup.base';

// dp-worker and run-child are the scripts `run` and `sweep` start in other threads and processes;
// the shared shims give the CJS build import.meta.url to find them. `@mllm/run/browser` imports no
// tfjs: the browser playground builds its prompts and scenes with it.
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/dp-worker.ts', 'src/run-child.ts', 'src/browser.ts'] }));
