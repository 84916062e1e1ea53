/** The slices of tfjs-wasm's backend and the WebAssembly API our kernels use (neither is typed for us). */

export interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

export interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}

export interface WasmBackend {
  wasm: { asm: { memory: WasmMemory } };
  dataIdMap: { get(id: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: string): TensorInfo;
  disposeData(id: object): void;
  incRef(id: object): void;
}

export type KernelArgs = { inputs: Record<string, TensorInfo>; backend: WasmBackend; attrs: Record<string, unknown> };
/** `mllmFast` marks our replacement, so installing twice (two copies of @mllm/core) is a no-op. */
export type KernelFunc = ((args: KernelArgs) => TensorInfo) & { mllmFast?: true };
