import type { SpecialIds } from '@mllm/tokenizer';
import type { HfLlavaParts } from './export-hf-parts';

/** Weight dtypes of `--format hf`, by transformers' torch_dtype name. */
export const HF_DTYPES = { float32: 'F32', bfloat16: 'BF16', float16: 'F16' } as const;
export type HfDtype = keyof typeof HF_DTYPES;

export interface HfLlavaConfigOptions {
  special: SpecialIds;
  /** Visual tokens per image after the CLS crop: the run's tokensPerImage. */
  imageSeqLength: number;
  dtype: HfDtype;
  maxPositions: number;
}

/** vision_config: CLIPVisionConfig / SiglipVisionConfig fields, every one written (no class defaults relied on). */
function visionConfig(parts: HfLlavaParts): Record<string, unknown> {
  const c = parts.vit.config;
  const siglip = c.variant === 'siglip';
  return {
    model_type: siglip ? 'siglip_vision_model' : 'clip_vision_model',
    hidden_size: c.dim,
    intermediate_size: c.mlpHidden ?? Math.round(c.dim * c.mlpRatio), // as VisionTransformer sizes fc1
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    num_channels: c.channels,
    image_size: c.imageSize,
    patch_size: c.patchSize,
    hidden_act: parts.visionAct,
    layer_norm_eps: c.normEps,
    attention_dropout: 0,
    ...(siglip && { vision_use_head: c.attentionPool }),
    // CLIPVisionConfig's projection_dim belongs to CLIPVisionModelWithProjection, unused by LLaVA
  };
}

/** text_config: a LlamaConfig that reproduces CausalLM exactly (no biases, no RoPE scaling, head_dim = D / H). */
function textConfig(parts: HfLlavaParts, options: HfLlavaConfigOptions): Record<string, unknown> {
  const llm = parts.llm;
  const attn = llm.blocks[0]!.attn;
  return {
    model_type: 'llama',
    architectures: ['LlamaForCausalLM'],
    hidden_size: llm.dim,
    intermediate_size: llm.blocks[0]!.config.mlpHidden,
    num_hidden_layers: llm.numLayers,
    num_attention_heads: llm.numHeads,
    num_key_value_heads: attn.numKvHeads,
    head_dim: attn.headDim,
    hidden_act: 'silu',
    rms_norm_eps: llm.config.normEps,
    rope_theta: llm.config.ropeTheta,
    rope_scaling: null,
    max_position_embeddings: options.maxPositions,
    vocab_size: llm.vocabSize,
    attention_bias: false,
    mlp_bias: false,
    // tied: model.safetensors has no lm_head and transformers ties it to embed_tokens on load
    tie_word_embeddings: llm.config.tieWordEmbeddings,
    bos_token_id: options.special.bos,
    eos_token_id: options.special.eos,
    pad_token_id: options.special.pad,
    torch_dtype: options.dtype,
  };
}

/** config.json of LlavaForConditionalGeneration (LlavaConfig keys). */
export function hfLlavaConfig(parts: HfLlavaParts, options: HfLlavaConfigOptions): Record<string, unknown> {
  return {
    architectures: ['LlavaForConditionalGeneration'],
    model_type: 'llava',
    // LlavaConfig reads image_token_index (newer versions store it as image_token_id)
    image_token_index: options.special.image,
    projector_hidden_act: 'gelu', // MlpProjector's geluErf: ACT2FN["gelu"] is the exact erf form
    multimodal_projector_bias: true,
    vision_feature_layer: parts.featureLayer,
    vision_feature_select_strategy: parts.selectStrategy,
    image_seq_length: options.imageSeqLength,
    vision_config: visionConfig(parts),
    text_config: textConfig(parts, options),
    pad_token_id: options.special.pad,
    // transformers versions that read the top-level flag tie from it: it says what text_config says
    tie_word_embeddings: parts.llm.config.tieWordEmbeddings,
    torch_dtype: options.dtype,
  };
}

/** generation_config.json: greedy, stopping at end-of-turn or eos as `mllm chat` does. */
export function hfGenerationConfig(special: SpecialIds, maxNewTokens: number): Record<string, unknown> {
  return {
    bos_token_id: special.bos,
    eos_token_id: [...new Set([special.end, special.eos])],
    pad_token_id: special.pad,
    do_sample: false,
    max_new_tokens: maxNewTokens,
  };
}

/** preprocessor_config.json: CLIPImageProcessor / SiglipImageProcessor giving the tower's input, (x / 255 - mean) / std at imageSize. */
export function hfPreprocessorConfig(parts: HfLlavaParts): Record<string, unknown> {
  const c = parts.vit.config;
  return {
    image_processor_type: c.variant === 'siglip' ? 'SiglipImageProcessor' : 'CLIPImageProcessor',
    processor_class: 'LlavaProcessor',
    do_convert_rgb: true,
    do_resize: true,
    size: { height: c.imageSize, width: c.imageSize },
    resample: 2, // PIL bilinear, as the ONNX export's processor declares
    do_center_crop: false,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [...c.pixelMean],
    image_std: [...c.pixelStd],
  };
}

/**
 * processor_config.json: LlavaProcessor expands each `<image>` to
 * (size / patch_size)^2 + num_additional_image_tokens placeholders, less one for "default".
 */
export function hfProcessorConfig(parts: HfLlavaParts): Record<string, unknown> {
  return {
    processor_class: 'LlavaProcessor',
    image_token: '<image>',
    patch_size: parts.vit.config.patchSize,
    num_additional_image_tokens: parts.additionalImageTokens,
    vision_feature_select_strategy: parts.selectStrategy,
  };
}
