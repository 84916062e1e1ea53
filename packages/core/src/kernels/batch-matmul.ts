import * as tf from '@tensorflow/tfjs';
import { MllmError } from '../errors';
import { bmmWasmBase64 } from './bmm-wasm';
import { OrtMatMul } from './ort-matmul';
import { rowGather, zeroCopyIdentity } from './copy-kernels';
import type { KernelFunc, TensorInfo, WasmMemory } from './wasm-types';

/** Shapes: G batch of matrices (batch x heads), m rows, n columns, k the contracted width. */
type Kernel = 'bmm_nt' | 'bmm_nn' | 'bmm_tn';
/** bmm_rows(a, b, c, G, m, n, k, aBatch, aRowStride, aColStride): C[g] = A[g] . B[g] with B [k, n] row-major, A read through strides. */
type BmmRows = (a: number, b: number, c: number, g: number, m: number, n: number, k: number, aBatch: number, aSi: number, aSr: number) => void;

/** The slice of the WebAssembly API used here (ES2022 lib typings do not declare it). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
};

let compiled: object | undefined;

/** Our kernel module over `memory`: tfjs-wasm's own heap (tensors in place) or a private one (cpu backend). */
function bmmRowsOver(memory: WasmMemory): BmmRows {
  compiled ??= new WebAssembly.Module(Buffer.from(bmmWasmBase64, 'base64'));
  return new WebAssembly.Instance(compiled, { env: { memory } }).exports.bmm_rows as BmmRows;
}

let fastKernels = true;

/** Turns our kernels off (plain tfjs ops and gradients everywhere), for side-by-side benchmarks and parity checks. */
export function setFastKernels(enabled: boolean): void {
  fastKernels = enabled;
}

export function fastKernelsEnabled(): boolean {
  return fastKernels;
}

/** Who runs the wasm backend's float32 products: onnxruntime's GEMM, or tfjs-wasm's XNNPACK and our SIMD kernel. */
export type MatMulEngine = 'auto' | 'onnxruntime' | 'wasm';
export const MATMUL_ENGINES: readonly MatMulEngine[] = ['auto', 'onnxruntime', 'wasm'];

let engineRequest: { engine: MatMulEngine; threads: number } = { engine: 'auto', threads: 1 };
/** The loaded onnxruntime engine, or why there is none; undefined until the first product asks. */
let ortEngine: OrtMatMul | string | undefined;

/**
 * Chooses the wasm backend's matMul engine. `auto` (the default, or env MLLM_MATMUL) takes
 * onnxruntime-node when it is installed and this is the main thread, else the wasm kernels;
 * `onnxruntime` insists (an error says why it cannot); `wasm` keeps to tfjs-wasm. `threads` are
 * onnxruntime's threads per product: 1 leaves the other cores to data-parallel workers.
 */
export function setMatMulEngine(engine: MatMulEngine, options: { threads?: number } = {}): void {
  if (!MATMUL_ENGINES.includes(engine)) throw new MllmError(`unknown matMul engine "${engine}"; choose one of ${MATMUL_ENGINES.join(', ')}`);
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new MllmError(`matMul engine threads must be a positive integer, got ${threads}`);
  if (typeof ortEngine === 'object' && ortEngine.threads !== threads) {
    ortEngine.dispose();
    ortEngine = undefined;
  }
  engineRequest = { engine, threads };
  effectiveEngine = undefined;
  if (engine === 'onnxruntime') {
    const loaded = loadedOrt();
    if (!loaded) throw new MllmError(`matMul engine "onnxruntime" is not available: ${ortEngine as string}. Use "auto" or "wasm".`);
  }
}

/** The engine products run on now, for reports (`note` says why onnxruntime is not used, when it is not). */
export function matMulEngineInfo(): { engine: 'onnxruntime' | 'wasm'; threads: number; note?: string } {
  const ort = loadedOrt();
  if (ort) return { engine: 'onnxruntime', threads: ort.threads };
  return { engine: 'wasm', threads: 1, ...(typeof ortEngine === 'string' && { note: ortEngine }) };
}

/** `auto` resolved against env MLLM_MATMUL once per request (this runs on every product). */
let effectiveEngine: MatMulEngine | undefined;

function loadedOrt(): OrtMatMul | undefined {
  effectiveEngine ??= engineRequest.engine === 'auto' ? engineFromEnv() : engineRequest.engine;
  if (effectiveEngine === 'wasm') return undefined;
  ortEngine ??= OrtMatMul.load(engineRequest.threads);
  return typeof ortEngine === 'object' ? ortEngine : undefined;
}

function engineFromEnv(): MatMulEngine {
  const raw = process.env.MLLM_MATMUL;
  if (raw === undefined || raw === '') return 'auto';
  if (!MATMUL_ENGINES.includes(raw as MatMulEngine)) throw new MllmError(`MLLM_MATMUL="${raw}" is not a matMul engine; choose one of ${MATMUL_ENGINES.join(', ')} or unset it`);
  return raw as MatMulEngine;
}

// ---- wasm backend: our BatchMatMul kernel, registered over tfjs's ----

const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

/**
 * Below this many multiply-adds a product costs less on wasm than a call into onnxruntime
 * (measured with a transposed operand: even at 32^3 and 64x32x32, 17-21 us vs 20-34 us; from
 * 64x64x32 on, onnxruntime wins).
 */
const ORT_MIN_WORK = 65536;

/**
 * tfjs-wasm runs a matMul on XNNPACK only when it is one 2-D product without transpose flags;
 * anything else (flags, batch > 1) falls to a scalar loop ~10x slower. Ours, for float32:
 * - on the onnxruntime engine, every product of at least ORT_MIN_WORK multiply-adds: one call to
 *   its GEMM with the flags, operands and output in place on tfjs's heap;
 * - batch 1 without flags: XNNPACK (tfjs's kernel);
 * - batch 1 with flags: transposes the flagged operand with tfjs's Transpose kernel, then XNNPACK;
 * - batch > 1 (attention's [B*H, T, dh] products): our SIMD kernel on tfjs's heap in place, B^T
 *   materialised by Transpose, A^T read through strides.
 * Broadcast batches and other dtypes stay on tfjs's kernel. Stock gradients (which use the flags)
 * come through here too, so autograd of tf.matMul is fast without custom gradients.
 */
function fastBatchMatMul(original: KernelFunc, transpose: KernelFunc): KernelFunc {
  let bmmRows: BmmRows | undefined;
  const fast: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const transposeA = attrs.transposeA === true;
    const transposeB = attrs.transposeB === true;
    if (!fastKernels || a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    const ra = a.shape.length;
    const rb = b.shape.length;
    const g = product(a.shape.slice(0, -2));
    if (g !== product(b.shape.slice(0, -2))) return original(args);
    const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
    const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
    const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
    const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
    if (g * m * n * k === 0 || k !== kb) return original(args);
    const at = (x: TensorInfo) => backend.dataIdMap.get(x.dataId).memoryOffset;
    const ort = g * m * n * k >= ORT_MIN_WORK ? loadedOrt() : undefined;
    if (ort) {
      const out = backend.makeOutput([...(ra >= rb ? a.shape : b.shape).slice(0, -2), m, n], 'float32');
      const heap = backend.wasm.asm.memory.buffer; // after makeOutput: it may have grown the heap
      const view = (x: TensorInfo, size: number) => new Float32Array(heap, at(x), size);
      const aDims = [g, a.shape[ra - 2]!, a.shape[ra - 1]!];
      const bDims = [g, b.shape[rb - 2]!, b.shape[rb - 1]!];
      ort.run(transposeA, transposeB, view(a, g * m * k), aDims, view(b, g * k * n), bDims, view(out, g * m * n), [g, m, n]);
      return out;
    }
    if (g === 1 && !transposeA && !transposeB) return original(args);
    const temps: TensorInfo[] = [];
    const transposed = (x: TensorInfo) => {
      const r = x.shape.length;
      const y = transpose({ inputs: { x }, backend, attrs: { perm: [...Array(r - 2).keys(), r - 1, r - 2] } });
      temps.push(y);
      return y;
    };
    try {
      if (g === 1) {
        return original({ inputs: { a: transposeA ? transposed(a) : a, b: transposeB ? transposed(b) : b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
      }
      const bRows = transposeB ? transposed(b) : b;
      const out = backend.makeOutput([...(ra >= rb ? a.shape : b.shape).slice(0, -2), m, n], 'float32');
      bmmRows ??= bmmRowsOver(backend.wasm.asm.memory);
      if (transposeA) bmmRows(at(a), at(bRows), at(out), g, m, n, k, m * k, 1, m);
      else bmmRows(at(a), at(bRows), at(out), g, m, n, k, m * k, k, 1);
      return out;
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
  fast.mllmFast = true;
  return fast;
}

let wasmInstalled = false;

/** Puts `make(original)` in place of a wasm kernel, unless ours is there already. */
function replaceWasmKernel(name: string, make: (original: KernelFunc) => KernelFunc): void {
  const original = tf.getKernel(name, 'wasm');
  if (!original || (original.kernelFunc as KernelFunc).mllmFast) return;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...original, kernelFunc: make(original.kernelFunc as unknown as KernelFunc) as unknown as tf.KernelFunc });
}

/**
 * Registers our kernels for the wasm backend (once; a no-op until tfjs-backend-wasm is loaded):
 * BatchMatMul, a zero-copy Identity and a row GatherV2. Only wasm kernels are replaced: native
 * backends (tfjs-node) and WebGL keep theirs. `setFastKernels(false)` sends each call back to
 * tfjs's own kernel.
 */
export function installFastKernels(): void {
  if (wasmInstalled) return;
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!transpose || !tf.getKernel('BatchMatMul', 'wasm')) return;
  wasmInstalled = true;
  const enabled = () => fastKernels;
  replaceWasmKernel('BatchMatMul', (original) => fastBatchMatMul(original, transpose.kernelFunc as unknown as KernelFunc));
  replaceWasmKernel('Identity', (original) => zeroCopyIdentity(original, enabled));
  replaceWasmKernel('GatherV2', (original) => rowGather(original, enabled));
}

// ---- cpu backend: our kernel on a private heap, as custom gradients ----

let cpuHeap: { memory: WasmMemory; bmmRows: BmmRows } | undefined;

function runOnCpuHeap(kernel: Kernel, a: Float32Array, b: Float32Array, [g, m, n, k]: [number, number, number, number]): Float32Array {
  if (!cpuHeap) {
    const memory = new WebAssembly.Memory({ initial: 1 });
    cpuHeap = { memory, bmmRows: bmmRowsOver(memory) };
  }
  const { memory, bmmRows } = cpuHeap;
  const outLength = g * m * n;
  const bytes = 4 * (a.length + b.length + outLength);
  const pages = Math.ceil(bytes / 65536) - memory.buffer.byteLength / 65536;
  if (pages > 0) memory.grow(pages);
  const aPtr = 0;
  const bPtr = 4 * a.length;
  const cPtr = bPtr + 4 * b.length;
  const heap = new Float32Array(memory.buffer);
  heap.set(a, aPtr / 4);
  if (kernel === 'bmm_nt') transposeInto(heap, bPtr / 4, b, g, n, k);
  else heap.set(b, bPtr / 4);
  if (kernel !== 'bmm_tn') bmmRows(aPtr, bPtr, cPtr, g, m, n, k, m * k, k, 1);
  else bmmRows(aPtr, bPtr, cPtr, g, m, n, k, m * k, 1, m);
  return heap.slice(cPtr / 4, cPtr / 4 + outLength);
}

/** Writes each [rows, cols] matrix of src transposed, [cols, rows], at heap[offset...]. */
function transposeInto(heap: Float32Array, offset: number, src: Float32Array, g: number, rows: number, cols: number): void {
  for (let b = 0; b < g; b++) {
    const base = b * rows * cols;
    for (let r = 0; r < rows; r++) {
      const row = base + r * cols;
      for (let c = 0; c < cols; c++) heap[offset + base + c * rows + r] = src[row + c]!;
    }
  }
}

function raw(kernel: Kernel, a: tf.Tensor3D, b: tf.Tensor3D, m: number, n: number, k: number): tf.Tensor3D {
  const g = a.shape[0];
  const out = runOnCpuHeap(kernel, a.dataSync() as Float32Array, b.dataSync() as Float32Array, [g, m, n, k]);
  return tf.tensor3d(out, [g, m, n]);
}

type Product = (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/**
 * One batched product: on wasm the stock op (served by our registered kernel), on cpu our kernel
 * as a custom gradient (again two of the three products), elsewhere the stock op.
 */
function batched(
  kernel: Kernel,
  dims: (a: number[], b: number[]) => [number, number, number],
  grads: (dy: tf.Tensor3D, a: tf.Tensor3D, b: tf.Tensor3D) => [tf.Tensor3D, tf.Tensor3D],
  reference: Product,
): Product {
  return (a, b) => {
    const backend = tf.getBackend();
    if (backend === 'wasm') installFastKernels();
    if (!fastKernels || backend !== 'cpu') return reference(a, b);
    const f = tf.customGrad(((x: tf.Tensor3D, y: tf.Tensor3D, save: tf.GradSaveFunc) => {
      save([x, y]);
      return {
        value: raw(kernel, x, y, ...dims(x.shape, y.shape)),
        gradFunc: (dy: tf.Tensor, [xs, ys]: tf.Tensor[]) => grads(dy as tf.Tensor3D, xs as tf.Tensor3D, ys as tf.Tensor3D),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor, y: tf.Tensor) => tf.Tensor3D;
    return f(a, b);
  };
}

/** a [G, m, k] . b[G, n, k]^T -> [G, m, n] (attention scores Q K^T). */
export const batchMatMulNT: Product = batched(
  'bmm_nt',
  ([, m, k], [, n]) => [m!, n!, k!],
  (dy, a, b) => [batchMatMul(dy, b), batchMatMulTN(dy, a)],
  (a, b) => tf.matMul(a, b, false, true),
);

/** a [G, m, k] . b [G, k, n] -> [G, m, n] (attention mixing P V). */
export const batchMatMul: Product = batched(
  'bmm_nn',
  ([, m, k], [, , n]) => [m!, n!, k!],
  (dy, a, b) => [batchMatMulNT(dy, b), batchMatMulTN(a, dy)],
  (a, b) => tf.matMul(a, b),
);

/** a[G, k, m]^T . b [G, k, n] -> [G, m, n] (the gradients of the two above). */
export const batchMatMulTN: Product = batched(
  'bmm_tn',
  ([, k, m], [, , n]) => [m!, n!, k!],
  (dy, a, b) => [batchMatMulNT(b, dy), batchMatMul(a, dy)],
  (a, b) => tf.matMul(a, b, true, false),
);
