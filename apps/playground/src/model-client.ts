import type { ChatTurn } from '@mllm/tokenizer';
import type { Decoding, GenerationResult, ModelInfo, ModelSource, Reply, Request, VisualTokens } from './worker/protocol';

/** How long a load may take before the page gives up on it (a model that fits loads in seconds). */
const LOAD_TIMEOUT_MS = 180_000;
/** How long a stop may take before the worker is ended and restarted. */
const STOP_GRACE_MS = 5_000;

/**
 * The page's side of the model worker: promises and callbacks instead of messages, and the
 * guarantee that nothing waits forever: a load has a deadline, a worker that dies rejects what
 * it owed, and a stop that is not honoured in time ends the worker (the model is then reloaded).
 */
export class ModelClient {
  private worker!: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(e: Error): void; onToken?(text: string, id: number): void }>();
  private loading: { resolve(info: ModelInfo): void; reject(e: Error): void } | undefined;
  info: ModelInfo | undefined;

  constructor() {
    this.start();
  }

  private start(): void {
    this.worker = new Worker(new URL('./worker/model-worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (event: MessageEvent<Reply>) => this.receive(event.data);
    this.worker.onerror = (event) => this.fail(`the model worker failed: ${event.message || 'it could not start'}`);
  }

  private fail(message: string): void {
    this.loading?.reject(new Error(message));
    this.loading = undefined;
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
  }

  private restart(why: string): void {
    this.worker.terminate();
    this.info = undefined;
    this.fail(why);
    this.start();
  }

  private receive(reply: Reply): void {
    if (reply.type === 'loaded') {
      this.info = reply.info;
      this.loading?.resolve(reply.info);
      this.loading = undefined;
    } else if (reply.type === 'load-error') {
      this.loading?.reject(new Error(reply.message));
      this.loading = undefined;
    } else {
      const p = this.pending.get(reply.id);
      if (!p) return;
      if (reply.type === 'token') p.onToken?.(reply.text, reply.tokenId);
      else {
        this.pending.delete(reply.id);
        if (reply.type === 'error') p.reject(new Error(reply.message));
        else p.resolve(reply.type === 'visual' ? reply.tokens : reply.result);
      }
    }
  }

  private send(request: Request): void {
    this.worker.postMessage(request);
  }

  load(source: ModelSource, maxBytes: number): Promise<ModelInfo> {
    if (this.loading) this.restart('a new model was chosen while the last one was loading');
    return new Promise<ModelInfo>((resolve, reject) => {
      const timer = setTimeout(() => this.restart(`loading ${source.label} took longer than ${LOAD_TIMEOUT_MS / 1000} s; the page stopped it`), LOAD_TIMEOUT_MS);
      const done = <T>(f: (v: T) => void) => (v: T) => {
        clearTimeout(timer);
        f(v);
      };
      this.loading = { resolve: done(resolve), reject: done(reject) };
      this.send({ type: 'load', source, maxBytes, ortBase: new URL('ort/', location.href).href, wasmOnly: new URLSearchParams(location.search).get('ep') === 'wasm' });
    });
  }

  visual(pixels: Float32Array): Promise<VisualTokens> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.send({ type: 'visual', id, pixels });
    });
  }

  /** Streams an answer: `onToken` gets each piece of text as it is decoded; `stop()` ends it early. */
  generate(turns: ChatTurn[], pixels: Float32Array, decoding: Decoding, onToken: (text: string, id: number) => void): { result: Promise<GenerationResult>; stop(): void } {
    const id = ++this.nextId;
    const result = new Promise<GenerationResult>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onToken });
      this.send({ type: 'generate', id, turns, pixels, decoding });
    });
    const stop = () => {
      this.send({ type: 'stop', id });
      setTimeout(() => {
        if (this.pending.has(id)) this.restart('the model did not stop in time, so its worker was restarted: load the model again');
      }, STOP_GRACE_MS);
    };
    return { result, stop };
  }
}
