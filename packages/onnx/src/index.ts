export const ONNX_PLACEHOLDER = true;
