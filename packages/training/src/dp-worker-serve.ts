import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '@mllm/core';
import { buildModel, createRegistry, type MultimodalModel } from '@mllm/model';
import type { FromWorker, ToWorker, WorkerModelSpec } from './data-parallel';

export interface WorkerHooks {
  /** Runs before each step's gradient (tests make a worker fail here). */
  beforeStep?: (step: number) => void;
}

/**
 * A data-parallel worker's loop: build the model once, then per stage take the weights and the
 * trained names, per step read the published parameters, compute the gradient of
 * (slice mean x slice weight) and write it into this worker's SharedArrayBuffer.
 */
export async function serveDataParallel(hooks: WorkerHooks = {}): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('serveDataParallel runs inside a worker thread (see DataParallel.start)');
  const send = (msg: FromWorker) => port.postMessage(msg);
  const { model: spec, backend } = workerData as { model: WorkerModelSpec; backend: string };
  let model: MultimodalModel;
  try {
    await initBackend({ backend });
    model = buildModel(spec.config, { registry: createRegistry(), vocabSize: spec.vocabSize, special: spec.special, seed: spec.seed });
  } catch (e) {
    send({ type: 'error', message: `could not build the model: ${(e as Error).message}` });
    return;
  }
  const byName = new Map(model.namedParameters());
  let trained: tf.Variable[] = [];
  let params: Float32Array<ArrayBufferLike> = new Float32Array(0);
  let grads: Float32Array<ArrayBufferLike> = new Float32Array(0);
  port.on('message', (msg: ToWorker) => {
    try {
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
        params = new Float32Array(msg.params);
        grads = new Float32Array(msg.grads);
        send({ type: 'stage-ready' });
        return;
      }
      hooks.beforeStep?.(msg.step);
      let offset = 0;
      tf.tidy(() => {
        for (const p of trained) {
          p.assign(tf.tensor(params.slice(offset, offset + p.size), p.shape));
          offset += p.size;
        }
      });
      const { batch, weight } = msg.shard;
      const { value, grads: g } = tf.variableGrads(() => tf.tidy(() => model.loss(batch).mul(weight)) as tf.Scalar, trained);
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
      send({ type: 'grads', step: msg.step, loss, numTensors: tf.memory().numTensors, present });
    } catch (e) {
      send({ type: 'error', message: (e as Error).stack ?? String(e) });
    }
  });
  send({ type: 'ready' });
}
