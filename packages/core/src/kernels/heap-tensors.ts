import * as tf from '@tensorflow/tfjs';
import { fastKernelsEnabled } from './batch-matmul';
import type { WasmBackend } from './wasm-types';

/**
 * Float32 views of tensors on tfjs-wasm's heap, for the at-size kernels that read and fill
 * tensors in place instead of running a chain of whole-tensor tfjs ops. Only on the wasm
 * backend with our kernels on; elsewhere `wasmHeap()` is undefined and callers keep the stock ops.
 */
export interface WasmHeap {
  /** A view of the tensor's values; taken after every allocation (a growing heap moves the buffer). */
  view(t: tf.Tensor): Float32Array;
  /** Int32 values of an int32 tensor. */
  ints(t: tf.Tensor): Int32Array;
  /**
   * A new float32 tensor whose values are not set yet, for code that fills it through `view`.
   * Writing into an existing tensor is not safe: tfjs-wasm's matMul caches packed weights by
   * tensor id until the tensor is disposed, so new values need a new tensor.
   */
  empty(shape: number[]): tf.Tensor;
}

export function wasmHeap(): WasmHeap | undefined {
  return fastKernelsEnabled() ? wasmHeapViews() : undefined;
}

/**
 * The same views whether or not our kernels are on, for code that is no kernel and must not
 * change its path with them (the optimizer's in-place update). Undefined off the wasm backend.
 */
export function wasmHeapViews(): WasmHeap | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as WasmBackend;
  const offset = (t: tf.Tensor) => backend.dataIdMap.get(t.dataId).memoryOffset;
  return {
    view: (t) => {
      if (t.dtype !== 'float32') throw new Error(`heap view of a ${t.dtype} tensor; expected float32`);
      return new Float32Array(backend.wasm.asm.memory.buffer, offset(t), t.size);
    },
    ints: (t) => {
      if (t.dtype !== 'int32') throw new Error(`heap view of a ${t.dtype} tensor; expected int32`);
      return new Int32Array(backend.wasm.asm.memory.buffer, offset(t), t.size);
    },
    empty: (shape) => tf.engine().makeTensorFromTensorInfo(backend.makeOutput(shape, 'float32') as tf.TensorInfo, tf.backend()),
  };
}
