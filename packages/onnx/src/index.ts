export { exportModel, ONNX_FILES, type ExportOptions, type ExportTokenizer } from './export-model';
export { checkExportable, UnsupportedExportError, type ExportableModel } from './supported';
export { GraphBuilder, OPSET, toFloat16, quantizeInt8, type Attr, type Dim, type ElementType, type WeightFormat } from './graph-builder';
export { OnnxMultimodalModel, positionsFromMask, type OnnxGenerateOptions, type OnnxLoadOptions, type OnnxPrompt } from './runtime';
export { TokenPicker, checkSamplingOptions, type RandomSource, type SamplingOptions } from './sampling';
export { checkManifest, OnnxModelError, MANIFEST_FILE, type OnnxManifest } from './manifest';
