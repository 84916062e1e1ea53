import { defineConfig } from 'tsup';
import { packageBuild } from '../../tools/tsup.base';

// `@mllm/core/rng` and `/errors` import no tfjs (the ONNX runtime's sampling and the browser
// playground's prompts load them); `/testing` holds the gradient checks, `/internal` what sibling
// packages share. Splitting (CJS too) keeps one copy of each module across the entries, so a class
// or a kernel setting is the same whichever entry loaded it.
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/rng.ts', 'src/errors.ts', 'src/testing.ts', 'src/internal.ts'], splitting: true }));
