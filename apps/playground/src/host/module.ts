import * as ortWeb from 'onnxruntime-web';
import { readBytes } from './virtual-files';

/**
 * Browser stand-in for node:module's createRequire, which @mllm/onnx's ort-loader uses to pick
 * onnxruntime-node or, failing that, onnxruntime-web. Here onnxruntime-node "does not load", so
 * the runtime takes onnxruntime-web, as it does in a Node install without the native package.
 *
 * InferenceSession.create gets a mounted path (./virtual-files) where a browser has no file
 * system: it is read to bytes first, and the execution providers the page chose are added.
 */

let executionProviders: string[] = ['wasm'];

/** 'webgpu' first where the browser offers it; 'wasm' always as the fallback. */
export function useExecutionProviders(providers: string[]): void {
  executionProviders = providers;
}

const InferenceSession = {
  async create(source: string | Uint8Array, options: ortWeb.InferenceSession.SessionOptions = {}) {
    const bytes = typeof source === 'string' ? await readBytes(source) : source;
    // intra-op threads are a global of onnxruntime-web (env.wasm.numThreads), not a session option
    const { intraOpNumThreads: _threads, interOpNumThreads: _inter, ...rest } = options;
    return ortWeb.InferenceSession.create(bytes, { ...rest, executionProviders });
  },
};

const browserOrt = { ...ortWeb, InferenceSession };

export function createRequire(_from: string | URL): (id: string) => unknown {
  return (id: string) => {
    if (id === 'onnxruntime-web') return browserOrt;
    throw new Error(`Cannot find module '${id}' (a browser loads onnxruntime-web only)`);
  };
}

export const builtinModules: string[] = [];

export default { createRequire, builtinModules };
