import { MllmError } from '@mllm/core';
import { constant, layerNorm, linear, normal, zeros, type PlannedTensor } from './tensor-plan';

/** The fields of one CLIP / SigLIP tower config (vision or text) that decide its tensors. */
export interface TowerShape {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Vision only. */
  image_size?: number;
  patch_size?: number;
  num_channels?: number;
  /** Text only. */
  vocab_size?: number;
  max_position_embeddings?: number;
}

/** A tower's effective config: the class defaults transformers fills in, then what config.json says. */
export function towerShape(defaults: Record<string, unknown>, ...layers: unknown[]): TowerShape {
  const merged: Record<string, unknown> = { ...defaults };
  for (const layer of layers) if (layer && typeof layer === 'object') Object.assign(merged, layer);
  for (const [key, value] of Object.entries(merged))
    if (typeof defaults[key] === 'number' && (!Number.isInteger(value) || (value as number) < 1))
      throw new MllmError(`stand-in config.json: ${key} must be a positive integer, got ${JSON.stringify(value)}`);
  return merged as unknown as TowerShape;
}

/** Pre-LN encoder layers as CLIPEncoderLayer / SiglipEncoderLayer name them. */
function encoderLayers(prefix: string, t: TowerShape, init: { qkv: number; out: number; fc1: number; fc2: number; mlpBias: number }): PlannedTensor[] {
  const d = t.hidden_size;
  const f = t.intermediate_size;
  const mlpBias = init.mlpBias > 0 ? normal(init.mlpBias) : zeros;
  const tensors: PlannedTensor[] = [];
  for (let l = 0; l < t.num_hidden_layers; l++) {
    const at = `${prefix}.encoder.layers.${l}`;
    tensors.push(
      ...layerNorm(`${at}.layer_norm1`, d),
      ...linear(`${at}.self_attn.q_proj`, d, d, normal(init.qkv), zeros),
      ...linear(`${at}.self_attn.k_proj`, d, d, normal(init.qkv), zeros),
      ...linear(`${at}.self_attn.v_proj`, d, d, normal(init.qkv), zeros),
      ...linear(`${at}.self_attn.out_proj`, d, d, normal(init.out), zeros),
      ...layerNorm(`${at}.layer_norm2`, d),
      ...linear(`${at}.mlp.fc1`, f, d, normal(init.fc1), mlpBias),
      ...linear(`${at}.mlp.fc2`, d, f, normal(init.fc2), mlpBias),
    );
  }
  return tensors;
}

/** Standard deviation of xavier_uniform_ (same variance, drawn normal). */
const xavier = (fanIn: number, fanOut: number) => Math.sqrt(2 / (fanIn + fanOut));

/**
 * A full CLIPModel (vision tower, text tower, projections, logit_scale) as modeling_clip.py
 * names it, initialised as CLIPPreTrainedModel._init_weights does (biases zero). The
 * `position_ids` buffers are saved as in the checkpoints converted before transformers 4.31
 * (openai/clip-vit-*), which loaders must skip.
 */
export function clipTensors(vision: TowerShape, text: TowerShape, projectionDim: number, logitScale: number, factor = 1, initializerRange = 0.02): PlannedTensor[] {
  const towerInit = (t: TowerShape) => ({
    qkv: t.hidden_size ** -0.5 * (2 * t.num_hidden_layers) ** -0.5 * factor,
    out: t.hidden_size ** -0.5 * factor,
    fc1: (2 * t.hidden_size) ** -0.5 * factor,
    fc2: t.hidden_size ** -0.5 * (2 * t.num_hidden_layers) ** -0.5 * factor,
    mlpBias: 0,
  });
  const { patch, patches } = patchGeometry(vision);
  const vd = vision.hidden_size;
  const td = text.hidden_size;
  return [
    { name: 'logit_scale', shape: [], init: constant(logitScale) },
    ...linear('text_projection', projectionDim, td, normal(td ** -0.5 * factor)),
    { name: 'text_model.embeddings.position_embedding.weight', shape: [text.max_position_embeddings!, td], init: normal(0.02 * factor) },
    { name: 'text_model.embeddings.position_ids', shape: [1, text.max_position_embeddings!], init: { kind: 'positions' }, integer: true },
    { name: 'text_model.embeddings.token_embedding.weight', shape: [text.vocab_size!, td], init: normal(0.02 * factor) },
    ...encoderLayers('text_model', text, towerInit(text)),
    ...layerNorm('text_model.final_layer_norm', td),
    { name: 'vision_model.embeddings.class_embedding', shape: [vd], init: normal(vd ** -0.5 * factor) },
    { name: 'vision_model.embeddings.patch_embedding.weight', shape: [vd, vision.num_channels!, patch, patch], init: normal(initializerRange * factor) },
    { name: 'vision_model.embeddings.position_embedding.weight', shape: [patches + 1, vd], init: normal(initializerRange * factor) },
    { name: 'vision_model.embeddings.position_ids', shape: [1, patches + 1], init: { kind: 'positions' }, integer: true },
    ...layerNorm('vision_model.pre_layrnorm', vd), // sic: transformers' CLIP name
    ...encoderLayers('vision_model', vision, towerInit(vision)),
    ...layerNorm('vision_model.post_layernorm', vd),
    ...linear('visual_projection', projectionDim, vd, normal(vd ** -0.5 * factor)),
  ];
}

/**
 * A full SiglipModel (vision tower with its attention-pooling head, text tower, logit scale and
 * bias) as modeling_siglip.py names it, initialised as SiglipPreTrainedModel._init_weights does:
 * xavier for attention and MLP weights (drawn normal with xavier's variance), lecun normal for
 * the patch embedding and text head, 1/sqrt(width) for position and token embeddings.
 */
export function siglipTensors(vision: TowerShape, text: TowerShape, withHead = true): PlannedTensor[] {
  const towerInit = (t: TowerShape) => ({
    qkv: xavier(t.hidden_size, t.hidden_size),
    out: xavier(t.hidden_size, t.hidden_size),
    fc1: xavier(t.hidden_size, t.intermediate_size),
    fc2: xavier(t.intermediate_size, t.hidden_size),
    mlpBias: 1e-6,
  });
  const { patch, patches } = patchGeometry(vision);
  const vd = vision.hidden_size;
  const td = text.hidden_size;
  const channels = vision.num_channels!;
  const head: PlannedTensor[] = withHead
    ? [
        { name: 'vision_model.head.probe', shape: [1, 1, vd], init: normal(xavier(vd, vd)) },
        { name: 'vision_model.head.attention.in_proj_weight', shape: [3 * vd, vd], init: normal(xavier(vd, 3 * vd)) },
        { name: 'vision_model.head.attention.in_proj_bias', shape: [3 * vd], init: zeros },
        ...linear('vision_model.head.attention.out_proj', vd, vd, normal(xavier(vd, vd)), zeros),
        ...layerNorm('vision_model.head.layernorm', vd),
        ...linear('vision_model.head.mlp.fc1', vision.intermediate_size, vd, normal(xavier(vd, vision.intermediate_size)), normal(1e-6)),
        ...linear('vision_model.head.mlp.fc2', vd, vision.intermediate_size, normal(xavier(vision.intermediate_size, vd)), normal(1e-6)),
      ]
    : [];
  return [
    { name: 'logit_bias', shape: [1], init: zeros },
    { name: 'logit_scale', shape: [1], init: zeros }, // log(1.0), SiglipModel.__init__
    { name: 'text_model.embeddings.position_embedding.weight', shape: [text.max_position_embeddings!, td], init: normal(td ** -0.5) },
    { name: 'text_model.embeddings.token_embedding.weight', shape: [text.vocab_size!, td], init: normal(td ** -0.5) },
    ...encoderLayers('text_model', text, towerInit(text)),
    ...layerNorm('text_model.final_layer_norm', td),
    ...linear('text_model.head', td, td, normal(td ** -0.5), zeros),
    { name: 'vision_model.embeddings.patch_embedding.weight', shape: [vd, channels, patch, patch], init: normal((channels * patch * patch) ** -0.5) },
    { name: 'vision_model.embeddings.patch_embedding.bias', shape: [vd], init: zeros },
    { name: 'vision_model.embeddings.position_embedding.weight', shape: [patches, vd], init: normal(vd ** -0.5) },
    ...encoderLayers('vision_model', vision, towerInit(vision)),
    ...layerNorm('vision_model.post_layernorm', vd),
    ...head,
  ];
}

function patchGeometry(vision: TowerShape): { patch: number; patches: number } {
  const patch = vision.patch_size!;
  const size = vision.image_size!;
  if (size % patch !== 0) throw new MllmError(`stand-in config.json: image_size ${size} is not a multiple of patch_size ${patch}`);
  return { patch, patches: (size / patch) ** 2 };
}

