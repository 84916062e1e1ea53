import { MllmError } from '@mllm/core';
import { featureDepth, VisionTransformer } from '@mllm/encoders';
import { CausalLM } from '@mllm/llm';
import type { MultimodalModel } from '@mllm/model';

/** A run part that HF LlavaForConditionalGeneration has no module for. */
export class HfExportError extends MllmError {
  constructor(part: string, why: string) {
    super(`mllm export --format hf: ${part} ${why}; LlavaForConditionalGeneration cannot hold it. Export this run with --format onnx (the default) instead`);
    this.name = 'HfExportError';
  }
}

// our activation names -> HF ACT2FN keys that compute the same function
const HF_ACT: Record<string, string> = { gelu: 'gelu', 'gelu-tanh': 'gelu_pytorch_tanh', 'quick-gelu': 'quick_gelu', relu: 'relu', silu: 'silu' };

/** What the LLaVA config needs to know of each part, read from the built modules. */
export interface HfLlavaParts {
  vit: VisionTransformer;
  llm: CausalLM;
  /** `vision_feature_layer`: HF's hidden_states index (negative, from the end). */
  featureLayer: number;
  selectStrategy: 'default' | 'full';
  /** Tokens the processor adds to (size / patch)^2 before the CLS crop: 1 for CLIP's CLS, 0 for SigLIP. */
  additionalImageTokens: number;
  visionAct: string;
}

type PartConfig = { type?: unknown; [key: string]: unknown };

/**
 * Checks the run is encoder `vit` (CLIP or SigLIP semantics, plain resize) + connector `mlp`
 * (LLaVA-1.5's Linear-GELU-Linear) + LLM `causal` (Llama, dense SwiGLU) and that each computes
 * what transformers' module of the same name computes; anything else throws HfExportError
 * naming the part and the option.
 */
export function hfLlavaParts(model: MultimodalModel, configs: { encoder: PartConfig; connector: PartConfig; llm: PartConfig }): HfLlavaParts {
  const { encoder, connector, llm } = configs;
  if (encoder.type !== 'vit' || !(model.encoder instanceof VisionTransformer))
    throw new HfExportError(`encoder (type ${JSON.stringify(encoder.type)})`, 'is not a CLIP or SigLIP vision tower (type "vit")');
  if (encoder.highRes !== undefined) throw new HfExportError('encoder.highRes', 'tiles or resizes beyond the tower\'s own image size, which LLaVA-1.5 does not');
  const vit = model.encoder;
  const c = vit.config;
  const clip = c.variant === 'clip';
  if (c.featureLayer === 'output' && !clip)
    throw new HfExportError('encoder.featureLayer "output"', 'is SigLIP\'s post_layernorm output; LLaVA reads hidden_states (set featureLayer to "last" or an index)');
  const visionAct = HF_ACT[c.activation];
  if (!visionAct) throw new HfExportError(`encoder.activation ${JSON.stringify(c.activation)}`, 'has no HF hidden_act');

  if (connector.type !== 'mlp') throw new HfExportError(`connector (type ${JSON.stringify(connector.type)})`, 'is not LLaVA\'s multi_modal_projector (type "mlp", depth 2)');
  if ((connector.depth ?? 2) !== 2) throw new HfExportError(`connector.depth ${String(connector.depth)}`, 'differs from LlavaMultiModalProjector\'s two linear layers');
  if (connector.inputNorm === true) throw new HfExportError('connector.inputNorm', 'adds a LayerNorm LlavaMultiModalProjector does not have');

  if (llm.type !== 'causal' || !(model.llm instanceof CausalLM))
    throw new HfExportError(`llm (type ${JSON.stringify(llm.type)})`, 'is not a Llama-style causal decoder (type "causal")');
  const ffn = (llm.ffn as { type?: string } | undefined)?.type ?? 'dense';
  if (ffn !== 'dense') throw new HfExportError(`llm.ffn (type ${JSON.stringify(ffn)})`, 'is a mixture of experts; LLaVA\'s text_config here is a dense Llama');

  const depth = featureDepth(c.featureLayer, vit.blocks.length);
  return {
    vit,
    llm: model.llm,
    // hidden_states holds the embeddings then every block's output: depth d is index d - layers - 1 from the end
    featureLayer: depth - vit.blocks.length - 1,
    // HF's "default" crops the first token, which only CLIP's CLS is; SigLIP keeps every token ("full")
    selectStrategy: clip && !c.includeCls ? 'default' : 'full',
    additionalImageTokens: clip ? 1 : 0,
    visionAct,
  };
}
