import { basename } from 'node:path';
import type { HfVisionFields } from './exporter-types';
import type { OnnxManifest } from './manifest';

/**
 * HF config files for the exported folder. The combination is LLaVA-shaped (CLIP-style ViT,
 * projector, Llama LM), so config.json is a `llava` config that transformers.js maps to
 * LlavaForConditionalGeneration; the projector itself lives inside vision_encoder.onnx.
 * The encoder's exporter gives the vision fields, the LLM's exporter the text_config.
 */
export function llavaConfig(vision: HfVisionFields, textConfig: Record<string, unknown>, manifest: OnnxManifest): Record<string, unknown> {
  const { special } = manifest;
  return {
    architectures: ['LlavaForConditionalGeneration'],
    model_type: 'llava',
    image_token_index: special.imageTokenId,
    pad_token_id: special.padId,
    projector_hidden_act: 'gelu',
    vision_feature_layer: vision.featureLayer,
    vision_feature_select_strategy: vision.selectStrategy,
    image_seq_length: manifest.image.tokensPerImage,
    vision_config: vision.visionConfig,
    text_config: textConfig,
    torch_dtype: 'float32',
    'transformers.js_config': {
      dtype: manifest.weights === 'fp32' ? 'fp32' : manifest.weights === 'fp16' ? 'fp16' : 'q8',
      kv_cache_dtype: 'float32',
      // transformers.js looks for `<file>_data` beside each graph named here (by its file name)
      ...(manifest.externalData && { use_external_data_format: Object.fromEntries(Object.values(manifest.externalData).map((data) => [basename(data!).replace(/_data$/, ''), true])) }),
    },
  };
}

/**
 * config.json: `llava` for token connectors. Fusion connectors feed the decoder an extra input
 * LLaVA has no place for, so that folder gets its own model_type, which transformers.js
 * refuses by name instead of running it wrongly.
 */
export function hfConfig(vision: HfVisionFields, textConfig: Record<string, unknown>, manifest: OnnxManifest): Record<string, unknown> {
  const llava = llavaConfig(vision, textConfig, manifest);
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

/**
 * CLIPImageProcessor settings that give the encoder's input: resize to the canvas, x / 255,
 * (x - mean) / std. `resample` 3 (PIL BICUBIC) is @mllm/data's DEFAULT_RESAMPLE, the filter the
 * model's training images and `mllm chat` images are resized with, so Python sees the same pixels.
 */
export function preprocessorConfig(manifest: OnnxManifest): Record<string, unknown> {
  const { size, mean, std } = manifest.image;
  return {
    image_processor_type: 'CLIPImageProcessor',
    processor_class: 'LlavaProcessor',
    do_convert_rgb: true,
    do_resize: true,
    size: { height: size, width: size },
    resample: 3,
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
export function processorConfig(vision: HfVisionFields, tokensPerImage: number): Record<string, unknown> {
  return {
    processor_class: 'LlavaProcessor',
    image_token: '<image>',
    patch_size: vision.patchSize,
    num_additional_image_tokens: tokensPerImage - vision.patches,
    vision_feature_select_strategy: vision.selectStrategy,
  };
}
