/**
 * `@mllm/core/internal`: helpers the other @mllm packages share. Not a stable API: names here
 * change or go without a major version; a consumer imports from `@mllm/core`.
 */

// File writes that a crash cannot leave half-written (checkpoints, run folders).
export { writeFileAtomic } from './safetensors';

// The safetensors header size a reader accepts, for readers that parse headers themselves.
export { MAX_HEADER_BYTES, validateHeader as checkSafetensorsHeader } from './safetensors';
export { readHfFolderHeaders } from './hf-folder';
export { parameterCount } from './size-estimate';
export { openRegularFile, readRegularFile, fileKind } from './regular-file';

// Float32 views of tfjs-wasm tensors, for host code that reads and fills them without copies (AdamW, the gradient norm).
export { wasmHeapViews, type WasmHeap } from './kernels/heap-tensors';
