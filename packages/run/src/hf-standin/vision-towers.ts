import { clipTensors, siglipTensors, towerShape } from './vision-tensors';
import type { PlannedTensor } from './tensor-plan';

/**
 * The released vision towers' non-weight files. Sources: huggingface.co/google/siglip-base-patch16-224
 * (config.json, preprocessor_config.json; Apache-2.0) and huggingface.co/openai/clip-vit-base-patch16
 * (MIT). Defaults transformers fills in for absent fields are CLIPVisionConfig / CLIPTextConfig /
 * SiglipVisionConfig / SiglipTextConfig __init__'s.
 */

/** config.json of google/siglip-base-patch16-224, verbatim (it writes only what differs from the defaults). */
export function siglipBasePatch16Config(): Record<string, unknown> {
  return {
    architectures: ['SiglipModel'],
    initializer_factor: 1.0,
    model_type: 'siglip',
    text_config: { hidden_size: 768, intermediate_size: 3072, model_type: 'siglip_text_model', num_attention_heads: 12, vocab_size: 32000 },
    torch_dtype: 'float32',
    transformers_version: '4.37.0.dev0',
    vision_config: { model_type: 'siglip_vision_model', patch_size: 16 },
  };
}

/** preprocessor_config.json of google/siglip-base-patch16-224: squash-resize to 224 (bicubic), scale to [-1, 1]. */
export function siglipBasePatch16Preprocessor(): Record<string, unknown> {
  return {
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_processor_type: 'SiglipImageProcessor',
    image_std: [0.5, 0.5, 0.5],
    processor_class: 'SiglipProcessor',
    resample: 3,
    rescale_factor: 0.00392156862745098,
    size: { height: 224, width: 224 },
  };
}

const SIGLIP_VISION_DEFAULTS = { hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12, num_channels: 3, image_size: 224, patch_size: 16 };
const SIGLIP_TEXT_DEFAULTS = { vocab_size: 32000, hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12, max_position_embeddings: 64 };

export function siglipPlan(config: Record<string, unknown>): PlannedTensor[] {
  const vision = config.vision_config as Record<string, unknown> | undefined;
  return siglipTensors(towerShape(SIGLIP_VISION_DEFAULTS, vision), towerShape(SIGLIP_TEXT_DEFAULTS, config.text_config), vision?.vision_use_head !== false);
}

/**
 * config.json of openai/clip-vit-base-patch16, abridged: the released file also dumps every
 * PretrainedConfig default (id2label, top_k, use_bfloat16, ...) inside text_config and
 * vision_config; those fields do not shape the model and are left out. Kept are the fields that
 * do, including the legacy `*_config_dict` entries, which CLIPConfig fills with the class defaults
 * and lets replace the nested configs (patch_size 16 and quick_gelu come from there, as in the
 * released file).
 */
export function clipVitBasePatch16Config(): Record<string, unknown> {
  return {
    _name_or_path: 'openai/clip-vit-base-patch16',
    architectures: ['CLIPModel'],
    initializer_factor: 1.0,
    logit_scale_init_value: 2.6592,
    model_type: 'clip',
    projection_dim: 512,
    text_config: {
      attention_dropout: 0.0, bos_token_id: 0, dropout: 0.0, eos_token_id: 2, hidden_act: 'quick_gelu', hidden_size: 512, initializer_factor: 1.0,
      initializer_range: 0.02, intermediate_size: 2048, layer_norm_eps: 1e-5, max_position_embeddings: 77, model_type: 'clip_text_model',
      num_attention_heads: 8, num_hidden_layers: 12, pad_token_id: 1, projection_dim: 512, vocab_size: 49408,
    },
    text_config_dict: { hidden_act: 'quick_gelu' },
    torch_dtype: 'float32',
    transformers_version: null,
    vision_config: {
      attention_dropout: 0.0, dropout: 0.0, hidden_act: 'quick_gelu', hidden_size: 768, image_size: 224, initializer_factor: 1.0, initializer_range: 0.02,
      intermediate_size: 3072, layer_norm_eps: 1e-5, model_type: 'clip_vision_model', num_attention_heads: 12, num_channels: 3, num_hidden_layers: 12,
      patch_size: 16, projection_dim: 512,
    },
    vision_config_dict: { hidden_act: 'quick_gelu', patch_size: 16 },
  };
}

/** preprocessor_config.json of openai/clip-vit-base-patch16: shortest side to 224 (bicubic), centre crop 224, OpenAI's mean/std. */
export function clipVitBasePatch16Preprocessor(): Record<string, unknown> {
  return {
    crop_size: 224,
    do_center_crop: true,
    do_normalize: true,
    do_resize: true,
    feature_extractor_type: 'CLIPFeatureExtractor',
    image_mean: [0.48145466, 0.4578275, 0.40821073],
    image_std: [0.26862954, 0.26130258, 0.27577711],
    resample: 3,
    size: 224,
  };
}

const CLIP_VISION_DEFAULTS = { hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12, num_channels: 3, image_size: 224, patch_size: 32 };
const CLIP_TEXT_DEFAULTS = { vocab_size: 49408, hidden_size: 512, intermediate_size: 2048, num_hidden_layers: 12, num_attention_heads: 8, max_position_embeddings: 77 };

export function clipPlan(config: Record<string, unknown>): PlannedTensor[] {
  // as CLIPConfig.__init__: a legacy *_config_dict, filled with the class defaults, replaces the nested config
  const vision = towerShape(CLIP_VISION_DEFAULTS, config.vision_config_dict ?? config.vision_config);
  const text = towerShape(CLIP_TEXT_DEFAULTS, config.text_config_dict ?? config.text_config);
  const projection = typeof config.projection_dim === 'number' ? config.projection_dim : 512;
  const logitScale = typeof config.logit_scale_init_value === 'number' ? config.logit_scale_init_value : 2.6592;
  return clipTensors(vision, text, projection, logitScale, typeof config.initializer_factor === 'number' ? config.initializer_factor : 1);
}
