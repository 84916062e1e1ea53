// Export: a built model -> the HF Optimum split layout (transformers.js, onnxruntime anywhere) + mllm.json.
export { exportModel, ONNX_FILES, type ExportOptions, type ExportTokenizer } from './export-model';
export { DECODER_OPS } from './exporter-types';
export { checkExportable, UnsupportedExportError, type ExportPlan, type ExportPart } from './supported';

// Exporters by component type: the built-ins, and what a plugin registers for its own types
// (the same names are in the lighter `@mllm/onnx/graph` entry).
export { createOnnxExporters, ExporterRegistry, type OnnxExporters, type ExporterEntry, type UnsupportedExport } from './exporter-registry';
export { registerOnnxExporters } from './register-exporters';
export type {
  EncoderExporter,
  ConnectorExporter,
  LlmExporter,
  PartExportContext,
  ConnectorExportContext,
  DecoderExportContext,
  DecoderFusionNodes,
  DecoderOps,
  ExportImage,
  ExportLlmShape,
  HfVisionFields,
} from './exporter-types';

// Graph building, for exporters (see `@mllm/onnx/graph` for the layer helpers).
export { GraphBuilder, OPSET, toFloat16, quantizeInt8, type Attr, type Dim, type ElementType, type WeightFormat } from './graph-builder';

// Inference on onnxruntime-node (also `@mllm/onnx/runtime`, which loads without tfjs); tokens are
// picked by `@mllm/llm/decoding`'s TokenPicker, as tfjs generation picks them.
export { OnnxMultimodalModel, type OnnxGenerateOptions, type OnnxLoadOptions, type OnnxPrompt } from './runtime';
export { checkManifest, manifestSchema, OnnxModelError, MANIFEST_FILE, MANIFEST_LIMITS, type OnnxManifest } from './manifest';
// A file named by mllm.json, resolved inside the folder (load checks the graphs against mllm.json itself).
export { resolveModelFile } from './model-files';
