import * as tf from '@tensorflow/tfjs';
import { Worker } from 'node:worker_threads';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { MllmError, matMulEngineInfo } from '@mllm/core';
import type { ModelBatch, MultimodalModel } from '@mllm/model';

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

/** One participant's part of a step: a row slice of the batch and its loss denominator (trained tokens). */
export interface BatchShard {
  batch: ModelBatch;
  weight: number;
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
  | { type: 'error'; message: string };

/** The default participant count: the machine's cores. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * Cuts a collated batch into `parts` shards for data-parallel workers. The whole-batch loss is a
 * per-token sum over rows divided by the trained-token count, so which rows go together does
 * not change it: rows are sorted by length and cut where the padded work (rows x longest row)
 * is most even, and each shard drops the padding columns none of its rows use (right padding
 * under a causal mask: real positions never see them, and their loss weight is 0). Each shard's
 * weight is its trained-token count, so sum(weight * shardMean) / sum(weight) is the batch's mean.
 */
export function shardBatch(batch: ModelBatch, parts: number): BatchShard[] {
  const lengths = batch.attentionMask.map((row) => row.reduce((a, m) => a + m, 0));
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  return balancedCuts(order.map((i) => lengths[i]!), parts).map(([from, to]) => takeRows(batch, order.slice(from, to)));
}

/**
 * Splits ascending lengths into `parts` contiguous non-empty groups (fewer only when there are
 * fewer rows) minimising the largest rows x longest-row cost: greedy packing under a cost cap,
 * the cap found by bisection.
 */
function balancedCuts(sorted: number[], parts: number): [number, number][] {
  const n = sorted.length;
  const groups = Math.min(parts, n);
  const pack = (cap: number): [number, number][] | undefined => {
    const cuts: [number, number][] = [];
    let from = 0;
    while (from < n) {
      // leave at least one row for each group still to come
      const limit = n - (groups - cuts.length - 1);
      let to = from + 1;
      while (to < limit && (to + 1 - from) * sorted[to]! <= cap) to++;
      cuts.push([from, to]);
      from = to;
      if (cuts.length === groups && from < n) return undefined;
    }
    return cuts.length === groups ? cuts : undefined;
  };
  let lo = 0;
  let hi = n * (sorted[n - 1] ?? 0);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (pack(mid)) hi = mid;
    else lo = mid + 1;
  }
  return pack(hi) ?? [[0, n]];
}

/** The given rows of a batch, trimmed to the longest of them, with their images. */
function takeRows(batch: ModelBatch, rows: number[]): BatchShard {
  const width = Math.max(...rows.map((r) => batch.attentionMask[r]!.reduce((a, m) => a + m, 0)));
  const newRow = new Map(rows.map((r, i) => [r, i]));
  const pick = (xs: number[][]) => rows.map((r) => xs[r]!.slice(0, width));
  const images = batch.slots.map((s, i) => [s, i] as const).filter(([s]) => newRow.has(s.row));
  const weights = pick(batch.weights);
  return {
    batch: {
      inputIds: pick(batch.inputIds),
      targets: pick(batch.targets),
      weights,
      attentionMask: pick(batch.attentionMask),
      slots: images.map(([s]) => ({ row: newRow.get(s.row)!, start: s.start })),
      images: images.map(([, i]) => batch.images[i]!),
    },
    weight: weights.flat().reduce((a, w) => a + w, 0),
  };
}

interface Pending {
  resolve: (msg: Extract<FromWorker, { type: 'grads' }>) => void;
  reject: (e: Error) => void;
}

/** A worker thread or child process, seen the same way from the main thread. */
interface Channel {
  /** Resolves once the message has left this process (a child's pipe drains only while our event loop runs). */
  send(msg: ToWorker): Promise<void>;
  /** Whether the worker keeps this process alive (only while a reply is awaited). */
  hold(on: boolean): void;
  stop(): Promise<void>;
}

function threadChannel(worker: Worker): Channel {
  return {
    send: async (msg) => worker.postMessage(msg),
    hold: (on) => (on ? worker.ref() : worker.unref()),
    stop: async () => {
      worker.postMessage({ type: 'stop' } satisfies ToWorker);
      await worker.terminate();
    },
  };
}

function processChannel(child: ChildProcess): Channel {
  return {
    send: (msg) => new Promise<void>((resolve, reject) => void child.send(msg, (e) => (e ? reject(e) : resolve()))),
    hold: (on) => {
      if (on) {
        child.ref();
        child.channel?.ref();
      } else {
        child.unref();
        child.channel?.unref();
      }
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // an unreferenced child would let this process exit before its exit event arrives
      child.ref();
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill();
      await exited;
    },
  };
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
        worker.on('error', (e) => dp.fail(i, e.message));
        worker.on('exit', onExit);
        channel = threadChannel(worker);
      } else {
        const child = fork(typeof url === 'string' ? url : fileURLToPath(url), [], { serialization: 'advanced' });
        child.on('message', onMessage);
        child.on('error', (e) => dp.fail(i, e.message));
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
    if (msg.type === 'error') return this.fail(index, msg.message);
    if (msg.type === 'grads') p.numTensors = msg.numTensors;
    if (msg.type === 'ready') p.matMul = msg.matMul;
    const pending = p.pending;
    p.pending = undefined;
    pending?.resolve(msg as Extract<FromWorker, { type: 'grads' }>);
  }

  private fail(index: number, reason: string): void {
    if (this.closed) return;
    const error = new MllmError(
      `data-parallel worker ${index} failed: ${reason}. The run stopped; checkpoints already written are intact. Resume with --resume, or train in one process with --workers 1.`,
    );
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

/** Rows x padded width summed over shards: the work the LLM does on a batch cut this way. */
export function paddedWork(shards: BatchShard[]): number {
  return shards.reduce((a, s) => a + s.batch.inputIds.length * (s.batch.inputIds[0]?.length ?? 0), 0);
}

/**
 * In one process, a batch whose rows differ much in length costs less as length-sorted
 * micro-batches, each trimmed to its longest row (the loss is a per-token sum, so the gradient is
 * the same up to fp32 summation order). Picks 1-4 micro-batches: more only when each one cuts
 * the padded work by over 15%, since every micro-batch pays the per-kernel overheads again.
 */
export function microBatches(split: (parts: number) => BatchShard[]): BatchShard[] | undefined {
  let best: BatchShard[] | undefined;
  let bestWork = Infinity;
  for (let parts = 1; parts <= 4; parts++) {
    const shards = split(parts);
    const work = paddedWork(shards);
    if (work > 0.85 * bestWork) break;
    best = shards;
    bestWork = work;
  }
  return best && best.length > 1 ? best : undefined;
}

/** Loss and gradients of the whole batch's per-token mean, summed over its shards in this thread. */
export function accumulateShards(shards: BatchShard[], lossOf: (batch: ModelBatch) => tf.Scalar, params: [string, tf.Variable][]): { loss: number; grads: Map<string, tf.Tensor> } {
  const total = Math.max(1, shards.reduce((a, s) => a + s.weight, 0));
  const vars = params.map(([, p]) => p);
  const sums = new Map<string, tf.Tensor>();
  let loss = 0;
  for (const shard of shards) {
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => lossOf(shard.batch).mul(shard.weight / total)) as tf.Scalar, vars);
    loss += value.dataSync()[0]!;
    value.dispose();
    for (const [name, p] of params) {
      const g = grads[p.name];
      if (!g) continue;
      const before = sums.get(name);
      sums.set(name, before ? tf.add(before, g) : g);
      if (before) {
        before.dispose();
        g.dispose();
      }
    }
  }
  return { loss, grads: sums };
}
