import * as tf from '@tensorflow/tfjs';
import { MllmError } from './errors';
import { silentLogger, type Logger } from './logger';
import { installFastKernels } from './kernels/batch-matmul';

export const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendRequest = (typeof BACKENDS)[number];

export interface BackendInfo {
  /** What was asked for (`auto` unless overridden). */
  requested: BackendRequest;
  /** The tfjs backend name that runs: `tensorflow`, `wasm` or `cpu`. */
  name: string;
  /** Which package provides it, for the report. */
  provider: string;
}

let active: BackendInfo | undefined;

// Native engines are optional peers: users with libtensorflow installed get them, nobody else pays.
// Resolves to why the package did not load, or '' when it did.
async function tryImport(pkg: string): Promise<string> {
  try {
    await import(/* @vite-ignore */ pkg);
    return '';
  } catch (e) {
    return (e as Error).message.split('\n')[0]!;
  }
}

async function activate(name: string): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && (await tf.ready(), tf.getBackend() === name);
  } catch {
    return false;
  }
}

const candidates: Record<Exclude<BackendRequest, 'auto'>, { provider: string; load: () => Promise<string>; name: string }> = {
  'tensorflow-gpu': { provider: '@tensorflow/tfjs-node-gpu', name: 'tensorflow', load: () => tryImport('@tensorflow/tfjs-node-gpu') },
  tensorflow: { provider: '@tensorflow/tfjs-node', name: 'tensorflow', load: () => tryImport('@tensorflow/tfjs-node') },
  wasm: { provider: '@tensorflow/tfjs-backend-wasm', name: 'wasm', load: () => tryImport('@tensorflow/tfjs-backend-wasm') },
  cpu: { provider: '@tensorflow/tfjs (pure JS)', name: 'cpu', load: async () => '' },
};

/**
 * Chooses the compute backend once per process. `auto` tries the native engines first,
 * then wasm, then the pure-JS cpu backend. `MLLM_BACKEND` overrides when no explicit request is given.
 */
export async function initBackend(options: { backend?: string; logger?: Logger } = {}): Promise<BackendInfo> {
  const logger = options.logger ?? silentLogger;
  const raw = options.backend ?? process.env.MLLM_BACKEND ?? 'auto';
  if (!(BACKENDS as readonly string[]).includes(raw)) {
    throw new MllmError(`Unknown backend "${raw}". Allowed: ${BACKENDS.join(', ')} (flag --backend or env MLLM_BACKEND).`);
  }
  const requested = raw as BackendRequest;
  if (active && (requested === 'auto' || requested === active.requested)) return active;
  const order = requested === 'auto' ? (['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const) : [requested];
  const failures: Partial<Record<BackendRequest, string>> = {};
  for (const key of order) {
    const c = candidates[key];
    const loadError = await c.load();
    if (loadError) failures[key] = loadError;
    else if (!(await activate(c.name))) failures[key] = `the ${c.name} backend did not initialise`;
    else {
      active = { requested, name: c.name, provider: c.provider };
      if (c.name === 'wasm') installFastKernels();
      logger.info(`backend: ${active.name} (${active.provider})`);
      if (requested === 'auto' && key === 'cpu') warn(options.logger, cpuFallbackWarning(failures.wasm ?? 'not installed'));
      return active;
    }
  }
  throw new MllmError(
    `Backend "${requested}" is not available. Install its package (${order.map((k) => candidates[k].provider).join(', ')}) or choose another with --backend.`,
  );
}

/** What `auto` says when it lands on the pure-JS engine: the wasm engine is a dependency, so its absence is a broken install. */
function cpuFallbackWarning(why: string): string {
  return (
    `backend: falling back to cpu (pure JS), ~50x slower per matMul than wasm, because @tensorflow/tfjs-backend-wasm did not load (${why}). ` +
    'Install it with `npm install @tensorflow/tfjs-backend-wasm`, or ask for cpu by name (--backend cpu, MLLM_BACKEND=cpu) to use it on purpose.'
  );
}

/**
 * A warning a user cannot miss: through the injected logger, or Node's process warning (stderr)
 * when the caller injected none, since a silent 50x slowdown is what this warning exists to end.
 */
function warn(logger: Logger | undefined, message: string): void {
  if (logger) logger.warn(message);
  else process.emitWarning(message, { code: 'MLLM_CPU_BACKEND' });
}

/** The backend chosen by initBackend, for reports. */
export function backendInfo(): BackendInfo {
  return active ?? { requested: 'auto', name: tf.getBackend(), provider: 'unset' };
}
