/**
 * `@mllm/onnx/graph`: what a plugin needs to write an ONNX exporter for its component type
 * (`registry.onnx.connectors.register('my-type', exporter)` inside its `register(registry)`).
 * Builds graphs only: it loads neither onnxruntime nor the runtime, so a plugin that imports it
 * costs a training process nothing.
 */

// Graph building: named values, initializers and nodes in the order they run.
export { GraphBuilder, OPSET, CONTRIB_DOMAIN, type Attr, type Dim, type ElementType, type WeightFormat } from './graph-builder';

// @mllm/core's layers as nodes, op for op as their tfjs forward (initializers named `${name}.weight`, ...).
export {
  values,
  transposeMatrix,
  linear,
  layerNorm,
  rmsNorm,
  norm,
  gelu,
  geluMlp,
  activation,
  activationMlp,
  swiGlu,
  packedLinear,
  fusedLinear,
  attention,
  transformerBlock,
  type AttentionGraphInputs,
  type GraphRouting,
  type RopeValues,
  type MlpActivation,
} from './layers';
// A Llama decoder's layers on onnxruntime's fused contrib ops (GroupQueryAttention, SkipSimplifiedLayerNormalization).
export { contribDecoderLayers, groupQueryAttention, skipRmsNorm, type ContribAttentionInputs, type ContribLayerCache } from './contrib-decoder';

// The exporter interfaces, per slot, and the registries that hold them.
export type {
  EncoderExporter,
  ConnectorExporter,
  LlmExporter,
  PartExportContext,
  ConnectorExportContext,
  DecoderExportContext,
  DecoderFusionNodes,
  DecoderOps,
  KvCacheLayout,
  ExportImage,
  ExportLlmShape,
  HfVisionFields,
} from './exporter-types';
export { ExporterRegistry, type OnnxExporters, type ExporterEntry, type UnsupportedExport } from './exporter-registry';
export { UnsupportedExportError } from './unsupported-error';
