import { MllmError } from '../errors';
import type { KernelFunc, TensorInfo } from './wasm-types';

/**
 * Identity without the copy. tfjs clones every tensor a kernel saves for its gradient through
 * Identity (370 clones in a default instruct step), and tfjs-wasm's Identity copies the data; tfjs
 * tensors are immutable (a Variable's assign swaps its data, never writes it), so the clone can
 * share the data under a reference count, as tfjs's cpu backend and wasm's Reshape already do.
 */
export function zeroCopyIdentity(original: KernelFunc, enabled: () => boolean): KernelFunc {
  const fast: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (!enabled() || x.dtype === 'string') return original(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  fast.mllmFast = true;
  return fast;
}

/**
 * Row gather (axis 0, no batch dims: embedding lookups) as row copies on the heap. tfjs-wasm's
 * GatherV2 checks each index through a closure and walks strides per element: 2 ms for 1472 rows
 * of 96 in a default instruct step, where the copies take microseconds.
 */
export function rowGather(original: KernelFunc, enabled: () => boolean): KernelFunc {
  const fast: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
    const axis = Number(attrs.axis ?? 0);
    const batchDims = Number(attrs.batchDims ?? 0);
    if (!enabled() || (axis !== 0 && axis !== -x.shape.length) || batchDims !== 0 || x.dtype !== 'float32' || indices.dtype !== 'int32' || x.shape.length < 1) return original(args);
    const rows = x.shape[0]!;
    const width = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const count = indices.shape.reduce((a, b) => a * b, 1);
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], 'float32');
    if (count === 0 || width === 0) return out;
    const heap = backend.wasm.asm.memory.buffer; // after makeOutput: it may have grown the heap
    const ids = new Int32Array(heap, backend.dataIdMap.get(indices.dataId).memoryOffset, count);
    const src = new Float32Array(heap, backend.dataIdMap.get(x.dataId).memoryOffset, rows * width);
    const dst = new Float32Array(heap, backend.dataIdMap.get(out.dataId).memoryOffset, count * width);
    for (let i = 0; i < count; i++) {
      const row = ids[i]!;
      if (!(row >= 0 && row < rows)) {
        backend.disposeData(out.dataId);
        throw new MllmError(`gather: index ${row} at position ${i} is outside [0, ${rows - 1}] (a token id beyond the embedding table? check the tokenizer's vocabulary size against the model's)`);
      }
      dst.set(src.subarray(row * width, (row + 1) * width), i * width);
    }
    return out;
  };
  fast.mllmFast = true;
  return fast;
}
