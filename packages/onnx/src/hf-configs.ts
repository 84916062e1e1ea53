import type { ExportableModel } from './supported';
import { vitFeatureDepth } from './graphs';
import type { OnnxManifest } from './manifest';

/**
 * HF config files for the exported folder. The combination is LLaVA-shaped (CLIP-style ViT,
 * projector, Llama LM), so config.json is a `llava` config that transformers.js maps to
 * LlavaForConditionalGeneration; the projector itself lives inside vision_encoder.onnx.
 */
export function llavaConfig(parts: ExportableModel, manifest: OnnxManifest): Record<string, unknown> {
  const { encoder, llm } = parts;
  const vit = encoder.config;
  const depth = vitFeatureDepth(encoder);
  const { special } = manifest;
  return {
    architectures: ['LlavaForConditionalGeneration'],
    model_type: 'llava',
    image_token_index: special.imageTokenId,
    pad_token_id: special.padId,
    projector_hidden_act: 'gelu',
    // HF counts hidden_states with the embeddings first: -1 is the last block's output
    vision_feature_layer: depth - encoder.blocks.length - 1,
    vision_feature_select_strategy: vit.includeCls ? 'full' : 'default',
    image_seq_length: manifest.image.tokensPerImage,
    vision_config: {
      model_type: 'clip_vision_model',
      hidden_size: vit.dim,
      intermediate_size: Math.round(vit.dim * vit.mlpRatio),
      num_hidden_layers: vit.layers,
      num_attention_heads: vit.heads,
      num_channels: vit.channels,
      image_size: vit.imageSize,
      patch_size: vit.patchSize,
      hidden_act: 'gelu',
      layer_norm_eps: encoder.postNorm.eps,
    },
    text_config: {
      model_type: 'llama',
      architectures: ['LlamaForCausalLM'],
      hidden_size: llm.dim,
      intermediate_size: llm.blocks[0]!.config.mlpHidden,
      num_hidden_layers: llm.numLayers,
      num_attention_heads: llm.numHeads,
      num_key_value_heads: manifest.llm.kvHeads,
      head_dim: manifest.llm.headDim,
      hidden_act: 'silu',
      rms_norm_eps: llm.config.normEps,
      rope_theta: llm.config.ropeTheta,
      max_position_embeddings: manifest.llm.maxPositions,
      vocab_size: llm.vocabSize,
      tie_word_embeddings: false,
      attention_bias: false,
      mlp_bias: false,
      ...(special.bos !== undefined && { bos_token_id: special.bos }),
      ...(special.eos !== undefined && { eos_token_id: special.eos }),
      pad_token_id: special.padId,
    },
    torch_dtype: 'float32',
    'transformers.js_config': { dtype: manifest.weights === 'fp32' ? 'fp32' : manifest.weights === 'fp16' ? 'fp16' : 'q8', kv_cache_dtype: 'float32' },
  };
}

/**
 * config.json: `llava` for token connectors. Fusion connectors feed the decoder an extra input
 * LLaVA has no place for, so that folder gets its own model_type, which transformers.js
 * refuses by name instead of running it wrongly.
 */
export function hfConfig(parts: ExportableModel, manifest: OnnxManifest): Record<string, unknown> {
  const llava = llavaConfig(parts, manifest);
  if (!manifest.fusion) return llava;
  const kind = { 'adapter-prompts': 'AdapterPrompts', 'visual-expert': 'VisualExpert', 'gated-cross-attention': 'GatedCrossAttention' }[manifest.fusion.type];
  return { ...llava, architectures: [`Mllm${kind}ForCausalLM`], model_type: `mllm_${manifest.fusion.type.replaceAll('-', '_')}` };
}

export function generationConfig(manifest: OnnxManifest, maxNewTokens: number): Record<string, unknown> {
  const stops = [manifest.special.end, manifest.special.eos].filter((id): id is number => id !== undefined);
  return {
    ...(manifest.special.bos !== undefined && { bos_token_id: manifest.special.bos }),
    eos_token_id: stops,
    pad_token_id: manifest.special.padId,
    do_sample: false,
    max_new_tokens: maxNewTokens,
  };
}

/** CLIPImageProcessor settings that give the encoder's input: resize to the canvas, x / 255, (x - 0.5) / 0.5. */
export function preprocessorConfig(manifest: OnnxManifest): Record<string, unknown> {
  const { size, mean, std } = manifest.image;
  return {
    image_processor_type: 'CLIPImageProcessor',
    processor_class: 'LlavaProcessor',
    do_convert_rgb: true,
    do_resize: true,
    size: { height: size, width: size },
    resample: 2,
    do_center_crop: false,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: mean,
    image_std: std,
  };
}

/**
 * LlavaProcessor expands `<image>` to (size / patch)^2 + num_additional_image_tokens
 * placeholders; a query connector's M tokens are reached through the additional count.
 */
export function processorConfig(parts: ExportableModel, tokensPerImage: number): Record<string, unknown> {
  const patches = (parts.encoder.config.imageSize / parts.encoder.config.patchSize) ** 2;
  return {
    processor_class: 'LlavaProcessor',
    image_token: '<image>',
    patch_size: parts.encoder.config.patchSize,
    num_additional_image_tokens: tokensPerImage - patches,
    vision_feature_select_strategy: parts.encoder.config.includeCls ? 'full' : 'default',
  };
}
