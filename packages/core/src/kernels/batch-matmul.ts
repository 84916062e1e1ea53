import * as tf from '@tensorflow/tfjs';
import { bmmWasmBase64 } from './bmm-wasm';

/** Shapes: G batch of matrices (batch x heads), m rows, n columns, k the contracted width. */
type Kernel = 'bmm_nt' | 'bmm_nn' | 'bmm_tn';
type Exports = { bmm_rows(...args: number[]): void };

/** The slice of the WebAssembly API used here (ES2022 lib typings do not declare it). */
interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

interface BmmModule {
  memory: WasmMemory;
  run(kernel: Kernel, a: Float32Array, b: Float32Array, dims: [number, number, number, number]): Float32Array;
}

let instance: BmmModule | undefined;

function bmmModule(): BmmModule {
  if (instance) return instance;
  const wasm = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(bmmWasmBase64, 'base64')), {});
  const memory = wasm.exports.memory as WasmMemory;
  const kernels = wasm.exports as unknown as Exports;
  instance = {
    memory,
    run(kernel, a, b, [g, m, n, k]) {
      const outLength = g * m * n;
      const bytes = 4 * (a.length + b.length + outLength);
      const pages = Math.ceil(bytes / 65536) - memory.buffer.byteLength / 65536;
      if (pages > 0) memory.grow(pages);
      const aPtr = 0;
      const bPtr = 4 * a.length;
      const cPtr = bPtr + 4 * b.length;
      const heap = new Float32Array(memory.buffer);
      heap.set(a, aPtr / 4);
      // A . B^T runs as A . (B^T): transposing B [n, k] -> [k, n] on the way in costs one pass and
      // lets every product use the register-blocked row kernel (dot-product form needs a
      // horizontal sum per output, which is slower at attention's small k)
      if (kernel === 'bmm_nt') transposeInto(heap, bPtr / 4, b, g, n, k);
      else heap.set(b, bPtr / 4);
      // bmm_rows reads A's element (i, r) at g*aBatch + i*aRow + r*aCol: A is [m, k] for nn/nt, [k, m] for tn
      if (kernel !== 'bmm_tn') kernels.bmm_rows(aPtr, bPtr, cPtr, g, m, n, k, m * k, k, 1);
      else kernels.bmm_rows(aPtr, bPtr, cPtr, g, m, n, k, m * k, 1, m);
      return heap.slice(cPtr / 4, cPtr / 4 + outLength);
    },
  };
  return instance;
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

let fastKernels = true;

/** Turns our kernels off (plain tfjs ops everywhere), for side-by-side benchmarks and parity checks. */
export function setFastKernels(enabled: boolean): void {
  fastKernels = enabled;
}

/** Our SIMD kernels serve wasm and cpu; a native backend's own batched matMul is faster. */
function useOwnKernels(): boolean {
  const name = tf.getBackend();
  return fastKernels && (name === 'wasm' || name === 'cpu');
}

function raw(kernel: Kernel, a: tf.Tensor3D, b: tf.Tensor3D, m: number, n: number, k: number): tf.Tensor3D {
  const g = a.shape[0];
  const out = bmmModule().run(kernel, a.dataSync() as Float32Array, b.dataSync() as Float32Array, [g, m, n, k]);
  return tf.tensor3d(out, [g, m, n]);
}

type Product = (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/**
 * One batched product on our kernel with its gradient, which is again two of the three
 * products. `dims` reads (m, n, k) off the operands; `reference` is the plain tfjs op.
 */
function product(
  kernel: Kernel,
  dims: (a: number[], b: number[]) => [number, number, number],
  grads: (dy: tf.Tensor3D, a: tf.Tensor3D, b: tf.Tensor3D) => [tf.Tensor3D, tf.Tensor3D],
  reference: Product,
): Product {
  return (a, b) => {
    if (!useOwnKernels()) return reference(a, b);
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
export const batchMatMulNT: Product = product(
  'bmm_nt',
  ([, m, k], [, n]) => [m!, n!, k!],
  (dy, a, b) => [batchMatMul(dy, b), batchMatMulTN(dy, a)],
  (a, b) => tf.matMul(a, b, false, true),
);

/** a [G, m, k] . b [G, k, n] -> [G, m, n] (attention mixing P V). */
export const batchMatMul: Product = product(
  'bmm_nn',
  ([, m, k], [, , n]) => [m!, n!, k!],
  (dy, a, b) => [batchMatMulNT(dy, b), batchMatMulTN(a, dy)],
  (a, b) => tf.matMul(a, b),
);

/** a[G, k, m]^T . b [G, k, n] -> [G, m, n] (the gradients of the two above). */
export const batchMatMulTN: Product = product(
  'bmm_tn',
  ([, k, m], [, , n]) => [m!, n!, k!],
  (dy, a, b) => [batchMatMulNT(b, dy), batchMatMul(a, dy)],
  (a, b) => tf.matMul(a, b, true, false),
);
