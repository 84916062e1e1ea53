import { initBackend } from './backend';

// Tests run on the engine users get here: wasm (set MLLM_BACKEND=cpu to cross-check).
await initBackend({ backend: (process.env.MLLM_BACKEND as 'wasm') ?? 'wasm' });
