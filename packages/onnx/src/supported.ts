import { GeluMLP, MllmError, RMSNorm, SwiGLU } from '@mllm/core';
import { VisionTransformer } from '@mllm/encoders';
import { LinearProjector, MlpProjector } from '@mllm/connector-projection';
import { PerceiverResampler, QFormer } from '@mllm/connector-query';
import { AdapterPrompts, GatedCrossAttention, VisualExpert } from '@mllm/connector-fusion';
import { CausalLM } from '@mllm/llm';
import type { MultimodalModel } from '@mllm/model';

/** Token connectors the vision_encoder graph holds. */
export type ExportableConnector = MlpProjector | LinearProjector | QFormer | PerceiverResampler;

/** The component combination the exporter knows how to write, checked part by part. */
export interface ExportableModel {
  encoder: VisionTransformer;
  /** A token connector (in vision_encoder.onnx), or a fusion connector (its layers in the decoder graph). */
  connector: ExportableConnector | AdapterPrompts | VisualExpert | GatedCrossAttention;
  llm: CausalLM;
}

/** Thrown when a model holds a component or op the ONNX export does not write yet; names it. */
export class UnsupportedExportError extends MllmError {
  constructor(readonly component: string, detail: string) {
    super(`ONNX export: not supported yet: ${component}. ${detail}`);
  }
}

const className = (x: object) => x.constructor?.name ?? typeof x;

/**
 * Narrows a MultimodalModel to what the exporter writes (CLIP-style ViT + any built-in connector +
 * dense causal LM), or throws naming the first part it cannot write: SigLIP and tiled encoders,
 * MoE feed-forwards, prefix / encoder-decoder LMs and third-party components land here.
 */
export function checkExportable(model: MultimodalModel): ExportableModel {
  const { encoder, connector, llm } = model;
  if (!(encoder instanceof VisionTransformer))
    throw new UnsupportedExportError(`encoder ${className(encoder)}`, 'The export writes the ViT encoder (type "vit") without highRes tiles.');
  const variant = (encoder.config as { variant?: string }).variant ?? 'clip';
  if (variant !== 'clip' || !encoder.preNorm || !encoder.embeddings.classEmbedding)
    throw new UnsupportedExportError(`encoder variant "${variant}"`, 'The export writes CLIP-style ViTs (CLS token, pre_layrnorm); SigLIP towers are not exported yet.');
  if (encoder.config.highRes)
    throw new UnsupportedExportError('encoder.highRes', 'Tiled / resized high-resolution input is not exported; export a plain "vit" encoder.');
  if (connector.kind === 'fusion-connector' && !(connector instanceof AdapterPrompts || connector instanceof VisualExpert || connector instanceof GatedCrossAttention))
    throw new UnsupportedExportError(
      `connector ${className(connector)} (fusion)`,
      'The exported fusion connectors are gated-cross-attention, adapter-prompts and visual-expert; token connectors: mlp, linear, qformer, perceiver.',
    );
  if (connector instanceof VisualExpert) checkTokenConnector(connector.projection, 'connector.projection');
  else if (connector.kind === 'token-connector') checkTokenConnector(connector, 'connector');
  // a prefix LM is a CausalLM with another mask: refuse it by name rather than export it causal
  if (!(llm instanceof CausalLM) || (llm as { needsPrefix?: boolean }).needsPrefix)
    throw new UnsupportedExportError(`llm ${className(llm)}`, 'The export writes the causal LM (llm type "causal"); prefix and encoder-decoder LMs are not exported yet.');
  llm.blocks.forEach((block, i) => {
    if (!(block.mlp instanceof SwiGLU))
      throw new UnsupportedExportError(`llm.layers[${i}].mlp ${className(block.mlp)}`, 'Only the dense SwiGLU feed-forward is exported (no mixture of experts yet).');
    if (!(block.norm1 instanceof RMSNorm)) throw new UnsupportedExportError(`llm.layers[${i}] ${className(block.norm1)}`, 'Llama-style blocks (RMSNorm) only.');
  });
  encoder.blocks.forEach((block, i) => {
    if (!(block.mlp instanceof GeluMLP))
      throw new UnsupportedExportError(`encoder.layers[${i}].mlp ${className(block.mlp)}`, 'Only the exact-GELU MLP (activation "gelu") is exported; quick-gelu and gelu-tanh are not yet.');
  });
  return { encoder, connector: connector as ExportableModel['connector'], llm }; // narrowed by the checks above
}

function checkTokenConnector(connector: object, path: string): void {
  if (!(connector instanceof MlpProjector || connector instanceof LinearProjector || connector instanceof QFormer || connector instanceof PerceiverResampler))
    throw new UnsupportedExportError(`${path} ${className(connector)}`, 'The export writes the token connectors mlp, linear, qformer and perceiver.');
}
