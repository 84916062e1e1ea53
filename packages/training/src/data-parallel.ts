import * as tf from '@tensorflow/tfjs';
import { Worker } from 'node:worker_threads';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { MllmError, matMulEngineInfo } from '@mllm/core';
import type { ModelBatch, MultimodalModel } from '@mllm/model';
import type { BatchShard } from './batch-shards';
import { processChannel, threadChannel, type Channel } from './dp-channel';

/** What a worker needs to build the same model as the main thread (its weights come from the main thread). */
export interface WorkerModelSpec {
  /** The run config's model part (`encoder`, `connector`, `llm`, ...): buildModel's input. */
  config: Record<string, unknown>;
  vocabSize: number;
  special: { imageTokenId: number; padId: number };
  seed: number;
}

export interface DataParallelOptions {
  /** Participants including the main thread: 2 = the main thread and one worker thread. */
  workers: number;
  model: WorkerModelSpec;
  /** The tfjs backend the workers start (the main thread's, normally wasm). */
  backend: string;
  /** The worker script (a path or file URL); default: dp-worker.js beside this package's build. */
  workerUrl?: URL | string;
  /**
   * Where the other participants run: `threads` (worker_threads; parameters and gradients in
   * SharedArrayBuffers) or `processes` (child processes; parameters and gradients copied through
   * the IPC channel each step). Default `auto`: processes when this process's matMuls run on
   * onnxruntime, since onnxruntime-node serves one thread per process and worker threads would be
   * left with the slower wasm matMul; threads otherwise.
   */
  transport?: DataParallelTransport | 'auto';
}

export type DataParallelTransport = 'threads' | 'processes';

/** What a worker needs to start: the model to build, the backend, and (processes) the matMul engine. */
export interface WorkerInit {
  model: WorkerModelSpec;
  backend: string;
  index: number;
  matMulEngine: 'auto' | 'wasm';
}

/**
 * Messages between the main thread and a worker (see dp-worker-serve.ts). Thread workers share
 * `params` / `grads` buffers given with `stage`; process workers get the parameters with each
 * `step` and send their gradient back in `grads`.
 */
export type ToWorker =
  | { type: 'init'; init: WorkerInit }
  | { type: 'stage'; weights: Record<string, { shape: number[]; data: Float32Array }>; trainable: string[]; params?: SharedArrayBuffer; grads?: SharedArrayBuffer }
  | { type: 'step'; step: number; shard: BatchShard; params?: Float32Array }
  | { type: 'stop' };
export type FromWorker =
  | { type: 'ready'; matMul: string }
  | { type: 'stage-ready' }
  | { type: 'grads'; step: number; loss: number; numTensors: number; present: Uint8Array; grads?: Float32Array }
  /** `message` is what the parent prints; `stack`, the worker's, is kept as the error's cause (shown with --debug). */
  | { type: 'error'; message: string; stack?: string };

/** The default participant count: the machine's cores. */
export function defaultWorkers(): number {
  return availableParallelism();
}

interface Pending {
  resolve: (msg: Extract<FromWorker, { type: 'grads' }>) => void;
  reject: (e: Error) => void;
}

interface Participant {
  channel: Channel;
  grads?: Float32Array;
  pending?: Pending;
  /** The last tensor count the worker reported after a step (leak checks). */
  numTensors?: number;
  /** The engine the worker's matMuls run on, as it reported when ready. */
  matMul?: string;
}

/**
 * Data-parallel training over worker threads or child processes: the main thread is participant
 * 0 and keeps the authoritative parameters and the optimizer; each worker has its own tfjs
 * backend and model copy. A step sends each worker its row slice of the batch, every participant computes
 * the gradient of (slice mean x slice weight) at the same parameters, the main thread sums them
 * (from SharedArrayBuffers, or the workers' replies) and divides by the batch's total weight, so the update is the one of
 * the whole batch's per-token mean (up to fp32 summation order). After the optimizer step the
 * main thread writes the new parameters where the workers read them at the next step (a
 * SharedArrayBuffer, or the next step's message).
 */
export class DataParallel {
  private failure?: Error;
  private stageParams: [string, tf.Variable][] = [];
  private paramBuffer?: Float32Array;
  private offsets: number[] = [];
  private closed = false;

  private constructor(
    private readonly participants: Participant[],
    readonly transport: DataParallelTransport,
  ) {}

  get size(): number {
    return this.participants.length + 1;
  }

  /** Starts `workers - 1` worker threads and waits until each has built its model. */
  static async start(options: DataParallelOptions): Promise<DataParallel> {
    if (!Number.isInteger(options.workers) || options.workers < 2) throw new MllmError(`data-parallel training needs at least 2 workers, got ${options.workers}; use 1 to train in one process`);
    const given = options.workerUrl ?? new URL('./dp-worker.js', import.meta.url);
    const url = typeof given === 'string' && given.startsWith('file:') ? new URL(given) : given;
    const requested = options.transport ?? 'auto';
    const engine = matMulEngineInfo().engine;
    const transport: DataParallelTransport = requested === 'auto' ? (engine === 'onnxruntime' ? 'processes' : 'threads') : requested;
    const participants: Participant[] = [];
    const dp = new DataParallel(participants, transport);
    const ready: Promise<void>[] = [];
    for (let i = 1; i < options.workers; i++) {
      const init: WorkerInit = { model: options.model, backend: options.backend, index: i, matMulEngine: engine === 'onnxruntime' ? 'auto' : 'wasm' };
      const onMessage = (msg: FromWorker) => dp.onMessage(participant, i, msg);
      const onExit = (code: number | null, signal?: NodeJS.Signals | null) => {
        if (!dp.closed) dp.fail(i, `exited with code ${code}${signal ? ` (${signal})` : ''}`);
      };
      let channel: Channel;
      if (transport === 'threads') {
        const worker = new Worker(url, { workerData: init });
        worker.on('message', onMessage);
        worker.on('error', (e) => dp.fail(i, e.message, e.stack));
        worker.on('exit', onExit);
        channel = threadChannel(worker);
      } else {
        const child = fork(typeof url === 'string' ? url : fileURLToPath(url), [], { serialization: 'advanced' });
        child.on('message', onMessage);
        child.on('error', (e) => dp.fail(i, e.message, e.stack));
        child.on('exit', onExit);
        channel = processChannel(child);
        void channel.send({ type: 'init', init }).catch((e: Error) => dp.fail(i, e.message));
      }
      const participant: Participant = { channel };
      participants.push(participant);
      ready.push(dp.expect(participant).then(() => undefined));
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await dp.close();
      throw e;
    }
    return dp;
  }

  private onMessage(p: Participant, index: number, msg: FromWorker): void {
    if (msg.type === 'error') return this.fail(index, msg.message, msg.stack);
    if (msg.type === 'grads') p.numTensors = msg.numTensors;
    if (msg.type === 'ready') p.matMul = msg.matMul;
    const pending = p.pending;
    p.pending = undefined;
    pending?.resolve(msg as Extract<FromWorker, { type: 'grads' }>);
  }

  private fail(index: number, reason: string, stack?: string): void {
    if (this.closed) return;
    const error = new MllmError(
      `data-parallel worker ${index} failed: ${reason}. The run stopped; checkpoints already written are intact. Resume with --resume, or train in one process with --workers 1.`,
    );
    if (stack) {
      // the worker's own stack, for `mllm --debug`; the message stays one readable line
      const inWorker = new Error(reason);
      inWorker.stack = stack;
      error.cause = inWorker;
    }
    this.failure ??= error;
    for (const p of this.participants) {
      const pending = p.pending;
      p.pending = undefined;
      pending?.reject(this.failure);
    }
  }

  /**
   * The worker's next reply. A worker holds the process open only while a reply is awaited, so
   * a caller that fails elsewhere and never calls close() still exits.
   */
  private expect(p: Participant): Promise<Extract<FromWorker, { type: 'grads' }>> {
    if (this.failure) return Promise.reject(this.failure);
    p.channel.hold(true);
    return new Promise<Extract<FromWorker, { type: 'grads' }>>((resolve, reject) => {
      p.pending = { resolve, reject };
    }).finally(() => p.channel.hold(false));
  }

  /** The matMul engine of each worker (`onnxruntime` or `wasm`). */
  workerMatMulEngines(): string[] {
    return this.participants.map((p) => p.matMul ?? 'unknown');
  }

  /** Tensor counts the workers reported after their last step. */
  workerTensorCounts(): number[] {
    return this.participants.map((p) => p.numTensors ?? -1);
  }

  /**
   * Sends every worker the model's current weights and which of them train; call before a stage's
   * first step (and whenever the main thread changed weights outside `step`).
   */
  async beginStage(model: MultimodalModel, params: [string, tf.Variable][]): Promise<void> {
    if (this.failure) throw this.failure;
    this.stageParams = params;
    this.offsets = [];
    let total = 0;
    for (const [, p] of params) {
      this.offsets.push(total);
      total += p.size;
    }
    const shared = this.transport === 'threads';
    const paramSab = shared ? new SharedArrayBuffer(4 * total) : undefined;
    this.paramBuffer = paramSab ? new Float32Array(paramSab) : new Float32Array(total);
    const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, p] of model.namedParameters()) weights[name] = { shape: p.shape, data: p.dataSync() as Float32Array };
    const waits = this.participants.map((p) => {
      const gradSab = shared ? new SharedArrayBuffer(4 * total) : undefined;
      p.grads = gradSab ? new Float32Array(gradSab) : undefined;
      const done = this.expect(p);
      void p.channel.send({ type: 'stage', weights, trainable: params.map(([n]) => n), ...(paramSab && gradSab && { params: paramSab, grads: gradSab }) });
      return done;
    });
    await Promise.all(waits);
    this.publish();
  }

  /** Writes the main thread's current trained parameters where the workers read them. */
  publish(): void {
    const buffer = this.paramBuffer!;
    this.stageParams.forEach(([, p], i) => buffer.set(p.dataSync() as Float32Array, this.offsets[i]));
  }

  /**
   * One step's loss and gradients over the whole batch: shard 0 here, the others in the workers.
   * `lossOf` is the loss of a (sliced) batch as a per-token mean, the same function the workers run.
   * Returns gradients of the whole batch's per-token mean (the caller disposes them).
   */
  async step(step: number, shards: BatchShard[], lossOf: (batch: ModelBatch) => tf.Scalar): Promise<{ loss: number; grads: Map<string, tf.Tensor> }> {
    if (this.failure) throw this.failure;
    if (shards.length !== this.size) throw new MllmError(`data-parallel step got ${shards.length} shards for ${this.size} participants`);
    const sent: Promise<void>[] = [];
    const replies = this.participants.map((p, i) => {
      const reply = this.expect(p);
      sent.push(p.channel.send({ type: 'step', step, shard: shards[i + 1]!, ...(this.transport === 'processes' && { params: this.paramBuffer! }) }));
      reply.catch(() => undefined); // awaited below; this only keeps an early throw here from leaving it unhandled
      return reply;
    });
    // our own shard's compute blocks this event loop: the workers' inputs must be out before it starts
    try {
      await Promise.all(sent);
    } catch (e) {
      throw new MllmError(`data-parallel step ${step}: could not send a worker its shard (${(e as Error).message}). The run stopped; checkpoints already written are intact.`);
    }
    const vars = this.stageParams.map(([, p]) => p);
    const own = shards[0]!;
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => lossOf(own.batch).mul(own.weight)) as tf.Scalar, vars);
    const ownLoss = value.dataSync()[0]!;
    value.dispose();
    let results: Extract<FromWorker, { type: 'grads' }>[];
    try {
      results = await Promise.all(replies);
    } catch (e) {
      for (const g of Object.values(grads)) g.dispose();
      throw e;
    }
    const totalWeight = Math.max(1, shards.reduce((a, s) => a + s.weight, 0));
    const out = new Map<string, tf.Tensor>();
    this.stageParams.forEach(([name, p], i) => {
      const g = grads[p.name];
      // off the loss path everywhere (e.g. an unused last layer): no gradient, as in one process
      if (!g && !results.some((r) => r.present[i])) return;
      const sum = new Float32Array(p.size);
      if (g) sum.set(g.dataSync() as Float32Array);
      const offset = this.offsets[i]!;
      for (const [k, part] of this.participants.entries()) {
        const view = (part.grads ?? results[k]!.grads!).subarray(offset, offset + p.size);
        for (let j = 0; j < sum.length; j++) sum[j]! += view[j]!;
      }
      for (let j = 0; j < sum.length; j++) sum[j]! /= totalWeight;
      out.set(name, tf.tensor(sum, p.shape));
    });
    for (const g of Object.values(grads)) g.dispose();
    const loss = (ownLoss + results.reduce((a, r) => a + r.loss, 0)) / totalWeight;
    return { loss, grads: out };
  }

  /** Stops the workers (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.participants.map((p) => p.channel.stop()));
  }
}
