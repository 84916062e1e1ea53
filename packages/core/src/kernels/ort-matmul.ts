import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { ortMatMulGraphs } from './ort-matmul-graphs';

/** The part of onnxruntime-node's synchronous native session used here (its public API is async only). */
interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: Record<string, unknown>): void;
  run(feeds: Record<string, unknown>, fetches: Record<string, unknown>, options: Record<string, unknown>): Record<string, unknown>;
  dispose(): void;
}
interface OrtNative {
  binding: { InferenceSession: new () => NativeSession };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}

type Flags = keyof typeof ortMatMulGraphs;

/**
 * Batched float32 products on onnxruntime's CPU GEMM (MLAS: AVX2 / AVX-512 where the CPU has
 * them), 2-5x faster than tfjs-wasm's XNNPACK on a training step's shapes (128-bit SIMD only).
 * Operands and the output are views of caller-owned memory (tfjs-wasm's heap): onnxruntime reads
 * and writes them in place, nothing is copied.
 *
 * Runs synchronously through onnxruntime-node's native session (what its async `run` wraps),
 * since a tfjs kernel must return its output.
 */
export class OrtMatMul {
  private readonly sessions = new Map<Flags, NativeSession>();
  private readonly runOptions = {};

  private constructor(
    private readonly ort: OrtNative,
    /** onnxruntime's intra-op threads per product. */
    readonly threads: number,
  ) {}

  /**
   * Loads onnxruntime-node, or says why it cannot: not installed, or not the main thread
   * (onnxruntime-node binds its tensor type to the first JS thread that loads it, and a call from
   * any other thread aborts the process, so worker threads must keep to the wasm kernels).
   */
  static load(threads: number): OrtMatMul | string {
    if (!isMainThread) return 'onnxruntime-node runs on the main thread only';
    let ort: OrtNative;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const req = typeof __filename === 'string' ? createRequire(__filename) : createRequire(import.meta.url);
      const { binding, initOrt } = req('onnxruntime-node/dist/binding.js') as Pick<OrtNative, 'binding'> & { initOrt: () => void };
      const { Tensor } = req('onnxruntime-node') as Pick<OrtNative, 'Tensor'>;
      initOrt();
      ort = { binding, Tensor };
    } catch (e) {
      return `onnxruntime-node is not installed or does not load (${(e as Error).message.split('\n')[0]}); \`ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install onnxruntime-node@1.21.0\` for the faster matMul (the variable skips its CUDA download)`;
    }
    return new OrtMatMul(ort, threads);
  }

  private session(flags: Flags): NativeSession {
    let s = this.sessions.get(flags);
    if (!s) {
      s = new this.ort.binding.InferenceSession();
      const bytes = Buffer.from(ortMatMulGraphs[flags], 'base64');
      s.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, {
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // idle pool threads would spin on the cores the other tfjs kernels and data-parallel workers use
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      this.sessions.set(flags, s);
    }
    return s;
  }

  /**
   * out[g] = op(a[g]) . op(b[g]) for g < batch, op transposing when its flag is set; `aDims` /
   * `bDims` are the operands' [batch, rows, cols] as stored, `out` holds batch x m x n.
   */
  run(transposeA: boolean, transposeB: boolean, a: Float32Array, aDims: readonly number[], b: Float32Array, bDims: readonly number[], out: Float32Array, outDims: readonly number[]): void {
    const { Tensor } = this.ort;
    const flags = `${transposeA ? 't' : 'n'}${transposeB ? 't' : 'n'}` as Flags;
    this.session(flags).run({ a: new Tensor('float32', a, aDims), b: new Tensor('float32', b, bDims) }, { y: new Tensor('float32', out, outDims) }, this.runOptions);
  }

  dispose(): void {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
  }
}
