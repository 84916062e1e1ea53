import { MllmError, type FusionConnector, type LanguageModel, type TokenConnector, type VisionEncoder } from '@mllm/core';
import type { MultimodalModel } from '@mllm/model';
import type { OnnxExporters } from './exporter-registry';
import type { ConnectorExportContext, ConnectorExporter, EncoderExporter, LlmExporter, PartExportContext } from './exporter-types';

export { UnsupportedExportError } from './unsupported-error';

/** A part of the model with the exporter its registry type names, and the context that exporter is called with. */
export interface ExportPart<C, E, X extends PartExportContext = PartExportContext> {
  component: C;
  exporter: E;
  ctx: X;
}

/** What the export writes: each part of the model with its exporter, every check passed. */
export interface ExportPlan {
  encoder: ExportPart<VisionEncoder, EncoderExporter>;
  connector: ExportPart<TokenConnector | FusionConnector, ConnectorExporter, ConnectorExportContext>;
  llm: ExportPart<LanguageModel, LlmExporter>;
}

/**
 * Looks up each part's exporter by the registry `type` the model was built with and runs the
 * exporters' checks, or throws UnsupportedExportError naming the first part it cannot write
 * (a type without an exporter, or with a stated reason; an option its exporter refuses, such
 * as highRes tiles or an MoE feed-forward). Nothing is written before this passes.
 */
export function checkExportable(model: MultimodalModel, exporters: OnnxExporters): ExportPlan {
  const configs = model.componentConfigs;
  if (!configs)
    throw new MllmError('ONNX export: the model does not record the registry type of its parts; build it with @mllm/model buildModel, which records them, so each part finds its exporter');
  const { encoder, connector, llm } = model;
  const base = (path: 'encoder' | 'connector' | 'llm') => ({ path, config: configs[path], exporters });
  // part by part, as a reader would check them: the encoder and its options, the connector's, the LLM's
  const encoderPart = { component: encoder, exporter: exporters.encoders.exporterFor(configs.encoder.type, 'encoder', encoder), ctx: base('encoder') };
  encoderPart.exporter.check?.(encoder, encoderPart.ctx);
  const connectorCtx: ConnectorExportContext = {
    ...base('connector'),
    name: 'multi_modal_projector',
    inputTokens: encoder.numTokens,
    inputDim: encoder.outputDim,
    tokenGrid: encoder.tokenGrid,
    outputDim: llm.dim,
    llmLayers: llm.numLayers,
    llmHeads: llm.numHeads,
  };
  const connectorPart = { component: connector, exporter: exporters.connectors.exporterFor(configs.connector.type, 'connector', connector), ctx: connectorCtx };
  connectorPart.exporter.check?.(connector, connectorCtx);
  const llmPart = { component: llm, exporter: exporters.llms.exporterFor(configs.llm.type, 'llm', llm), ctx: base('llm') };
  llmPart.exporter.check?.(llm, llmPart.ctx);
  return { encoder: encoderPart, connector: connectorPart, llm: llmPart };
}
