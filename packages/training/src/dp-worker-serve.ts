import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, matMulEngineInfo, setMatMulEngine, type ComponentRegistry } from '@mllm/core';
import { buildModel, createComponentRegistry, type MultimodalModel } from '@mllm/model';
import type { FromWorker, ToWorker, WorkerInit, WorkerModelSpec } from './data-parallel';

export interface WorkerHooks {
  /** Runs before each step's gradient (tests make a worker fail here). */
  beforeStep?: (step: number) => void;
  /**
   * The registry the worker builds its model from; default: the built-in component types. A
   * run with plugins passes one that loads them, so every participant knows the same types.
   */
  registry?: (spec: WorkerModelSpec) => ComponentRegistry | Promise<ComponentRegistry>;
}

/** The main thread as a worker thread or a child process sees it. */
interface Port {
  send(msg: FromWorker): void;
  onMessage(handler: (msg: ToWorker) => void): void;
  close(): void;
}

function mainPort(): Port | undefined {
  const port = parentPort;
  if (port) return { send: (msg) => port.postMessage(msg), onMessage: (h) => port.on('message', h), close: () => port.close() };
  const send = process.send?.bind(process);
  if (!send) return undefined;
  // a main process that is gone leaves nobody to serve
  process.on('disconnect', () => process.exit(0));
  return { send: (msg) => void send(msg), onMessage: (h) => process.on('message', h as (msg: unknown) => void), close: () => process.disconnect() };
}

/** A child process's init comes as its first message; a thread's as workerData. */
function initOf(port: Port): Promise<WorkerInit> {
  if (parentPort) return Promise.resolve(workerData as WorkerInit);
  return new Promise((resolve) => {
    let received = false;
    port.onMessage((msg) => {
      if (received || msg.type !== 'init') return;
      received = true;
      resolve(msg.init);
    });
  });
}

/**
 * A data-parallel worker's loop: build the model once, then per stage take the weights and the
 * trained names, per step read the published parameters, compute the gradient of
 * (slice mean x slice weight) and hand it back (a shared buffer for threads, the reply for processes).
 */
export async function serveDataParallel(hooks: WorkerHooks = {}): Promise<void> {
  const port = mainPort();
  if (!port) throw new Error('serveDataParallel runs inside a worker thread or a forked child process (see DataParallel.start)');
  const init = await initOf(port);
  const send = port.send;
  let model: MultimodalModel;
  try {
    await initBackend({ backend: init.backend });
    setMatMulEngine(init.matMulEngine);
    const spec = init.model;
    const registry = hooks.registry ? await hooks.registry(spec) : createComponentRegistry();
    model = buildModel(spec.config, { registry, vocabSize: spec.vocabSize, special: spec.special, seed: spec.seed });
  } catch (e) {
    send({ type: 'error', message: `could not build the model: ${(e as Error).message}`, stack: (e as Error).stack });
    return;
  }
  const byName = new Map(model.namedParameters());
  let trained: tf.Variable[] = [];
  let shared: { params: Float32Array; grads: Float32Array } | undefined;
  let total = 0;
  port.onMessage((msg: ToWorker) => {
    try {
      if (msg.type === 'init') return;
      if (msg.type === 'stop') {
        port.close();
        return;
      }
      if (msg.type === 'stage') {
        tf.tidy(() => {
          for (const [name, w] of Object.entries(msg.weights)) byName.get(name)?.assign(tf.tensor(w.data, w.shape));
        });
        model.freeze();
        trained = msg.trainable.map((name) => {
          const p = byName.get(name);
          if (!p) throw new Error(`the worker's model has no parameter "${name}"; data-parallel stages train model parameters only`);
          p.trainable = true;
          return p;
        });
        total = trained.reduce((a, p) => a + p.size, 0);
        shared = msg.params && msg.grads ? { params: new Float32Array(msg.params), grads: new Float32Array(msg.grads) } : undefined;
        send({ type: 'stage-ready' });
        return;
      }
      hooks.beforeStep?.(msg.step);
      const params = shared?.params ?? msg.params;
      if (!params || params.length !== total) throw new Error(`step ${msg.step} came without this stage's ${total} parameters`);
      let offset = 0;
      tf.tidy(() => {
        for (const p of trained) {
          p.assign(tf.tensor(params.slice(offset, offset + p.size), p.shape));
          offset += p.size;
        }
      });
      const { batch, weight } = msg.shard;
      const { value, grads: g } = tf.variableGrads(() => tf.tidy(() => model.loss(batch).mul(weight)) as tf.Scalar, trained);
      const grads = shared?.grads ?? new Float32Array(total);
      const present = new Uint8Array(trained.length);
      offset = 0;
      trained.forEach((p, i) => {
        const grad = g[p.name];
        if (grad) {
          grads.set(grad.dataSync() as Float32Array, offset);
          present[i] = 1;
        } else grads.fill(0, offset, offset + p.size);
        offset += p.size;
      });
      const loss = value.dataSync()[0]!;
      value.dispose();
      for (const t of Object.values(g)) t.dispose();
      send({ type: 'grads', step: msg.step, loss, numTensors: tf.memory().numTensors, present, ...(!shared && { grads }) });
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      send({ type: 'error', message: `${error.name}: ${error.message}`, stack: error.stack });
    }
  });
  send({ type: 'ready', matMul: matMulEngineInfo().engine });
}
