import { afterEach, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';

/** A logger that records what it was told. */
function recordingLogger() {
  const lines = { info: [] as string[], warn: [] as string[] };
  return { lines, logger: { info: (m: string) => lines.info.push(m), warn: (m: string) => lines.warn.push(m) } };
}

const missing = (name: string) => () => {
  throw new Error(`Cannot find package '${name}'`);
};

/**
 * A fresh copy of backend.ts (initBackend chooses once per module instance) in a process where
 * the native engines are absent and, when `wasm` is false, the wasm engine too.
 */
async function freshBackend({ wasm }: { wasm: boolean }) {
  vi.resetModules();
  vi.doMock('@tensorflow/tfjs-node-gpu', missing('@tensorflow/tfjs-node-gpu'));
  vi.doMock('@tensorflow/tfjs-node', missing('@tensorflow/tfjs-node'));
  if (!wasm) vi.doMock('@tensorflow/tfjs-backend-wasm', missing('@tensorflow/tfjs-backend-wasm'));
  return import('./backend');
}

describe('initBackend', () => {
  const setupBackend = tf.getBackend();
  afterEach(async () => {
    vi.doUnmock('@tensorflow/tfjs-node-gpu');
    vi.doUnmock('@tensorflow/tfjs-node');
    vi.doUnmock('@tensorflow/tfjs-backend-wasm');
    vi.restoreAllMocks();
    await tf.setBackend(setupBackend);
  });

  it('auto without the wasm engine lands on cpu and warns what to install', async () => {
    const { initBackend } = await freshBackend({ wasm: false });
    const { lines, logger } = recordingLogger();
    const info = await initBackend({ backend: 'auto', logger });
    expect(info).toEqual({ requested: 'auto', name: 'cpu', provider: '@tensorflow/tfjs (pure JS)' });
    expect(tf.getBackend()).toBe('cpu');
    expect(lines.warn).toHaveLength(1);
    expect(lines.warn[0]).toContain('npm install @tensorflow/tfjs-backend-wasm');
    expect(lines.warn[0]).toContain('~50x slower');
    expect(lines.info).toEqual(['backend: cpu (@tensorflow/tfjs (pure JS))']);
  });

  it('without an injected logger the warning is a Node process warning, not silence', async () => {
    const { initBackend } = await freshBackend({ wasm: false });
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    await initBackend({ backend: 'auto' });
    expect(emit).toHaveBeenCalledTimes(1);
    expect(String(emit.mock.calls[0]![0])).toContain('npm install @tensorflow/tfjs-backend-wasm');
    expect(emit.mock.calls[0]![1]).toEqual({ code: 'MLLM_CPU_BACKEND' });
  });

  it('cpu asked for by name does not warn', async () => {
    const { initBackend } = await freshBackend({ wasm: false });
    const { lines, logger } = recordingLogger();
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    expect((await initBackend({ backend: 'cpu', logger })).name).toBe('cpu');
    expect(lines.warn).toEqual([]);
    expect(emit).not.toHaveBeenCalled();
  });

  it('auto with the wasm engine installed chooses it without a warning', async () => {
    const { initBackend } = await freshBackend({ wasm: true });
    const { lines, logger } = recordingLogger();
    const info = await initBackend({ backend: 'auto', logger });
    expect(info).toEqual({ requested: 'auto', name: 'wasm', provider: '@tensorflow/tfjs-backend-wasm' });
    expect(lines.warn).toEqual([]);
  });

  it('an unknown backend is an error that lists the allowed ones', async () => {
    const { initBackend } = await freshBackend({ wasm: true });
    await expect(initBackend({ backend: 'gpu' })).rejects.toThrow('Unknown backend "gpu". Allowed: auto, tensorflow-gpu, tensorflow, wasm, cpu');
  });
});
