// onnxruntime-web's package.json `exports` give no types condition; its API is onnxruntime-common's.
declare module 'onnxruntime-web' {
  export * from 'onnxruntime-common';
}
