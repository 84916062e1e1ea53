import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { parseHfSpec } from '@mllm/core';
import { HF_ACTIVATIONS, type VitActivation } from './activations';

/** HF model types whose vision tower loads into `vit`, and where its config sits. */
export const HF_VISION_MODEL_TYPES = ['clip', 'clip_vision_model', 'siglip', 'siglip_vision_model'] as const;

// transformers' image_utils constants: OPENAI_CLIP_MEAN/STD (CLIPImageProcessor), IMAGENET_STANDARD_* (SigLIP)
const OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711];
const HALF = [0.5, 0.5, 0.5];

/** The `vit` fields a HuggingFace folder decides, with the HF key each comes from (for messages). */
export interface HfVitFields {
  variant: 'clip' | 'siglip';
  imageSize: number;
  patchSize: number;
  channels: number;
  dim: number;
  layers: number;
  heads: number;
  mlpHidden: number;
  activation: VitActivation;
  normEps: number;
  attentionPool: boolean;
  pixelMean: number[];
  pixelStd: number[];
}

const SOURCE_KEYS: Record<keyof HfVitFields, string> = {
  variant: 'model_type',
  imageSize: 'image_size',
  patchSize: 'patch_size',
  channels: 'num_channels',
  dim: 'hidden_size',
  layers: 'num_hidden_layers',
  heads: 'num_attention_heads',
  mlpHidden: 'intermediate_size',
  activation: 'hidden_act',
  normEps: 'layer_norm_eps',
  attentionPool: 'vision_use_head',
  pixelMean: 'image_mean (preprocessor_config.json)',
  pixelStd: 'image_std (preprocessor_config.json)',
};

// save_pretrained writes only the fields that differ from the config class's defaults, so an
// absent field means these (CLIPVisionConfig / SiglipVisionConfig __init__ defaults)
const HF_DEFAULTS = {
  clip: { hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12, num_channels: 3, image_size: 224, patch_size: 32, hidden_act: 'quick_gelu', layer_norm_eps: 1e-5 },
  siglip: { hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12, num_channels: 3, image_size: 224, patch_size: 16, hidden_act: 'gelu_pytorch_tanh', layer_norm_eps: 1e-6 },
} as const;

const positiveInt = z.number().int().positive();
const squareSize = z.union([positiveInt, z.tuple([positiveInt, positiveInt]).refine(([h, w]) => h === w, 'only square images are supported')]);
const hfVisionConfigSchema = z.looseObject({
  hidden_size: positiveInt.optional(),
  intermediate_size: positiveInt.optional(),
  num_hidden_layers: positiveInt.optional(),
  num_attention_heads: positiveInt.optional(),
  num_channels: positiveInt.optional(),
  image_size: squareSize.optional(),
  patch_size: squareSize.optional(),
  hidden_act: z.string().optional(),
  layer_norm_eps: z.number().positive().optional(),
  vision_use_head: z.boolean().optional(),
});
const rgb = z.union([z.number(), z.array(z.number()).length(3)]);
const preprocessorSchema = z.looseObject({ do_normalize: z.boolean().optional(), image_mean: rgb.optional(), image_std: rgb.optional() });

/** A problem with the HF folder, at a `vit` field path. */
export interface HfVitIssue {
  path: string[];
  message: string;
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * config.json (and preprocessor_config.json when present) of an HF CLIP / SigLIP folder -> the
 * `vit` fields it decides. Throws an Error whose message says what is wrong with the folder.
 */
export function hfVitFields(dir: string): HfVitFields {
  const root = resolve(dir);
  const configPath = join(root, 'config.json');
  let json: unknown;
  try {
    json = readJson(configPath);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `${configPath} is missing; "from" names a HuggingFace model folder (config.json + model.safetensors): download one (huggingface-cli download <repo> --local-dir <folder>) or write a stand-in with random weights (mllm hf-standin --list)`
        : `${configPath} cannot be read (${code ?? (e as Error).message})`,
    );
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${configPath} must hold a JSON object`);
  const top = json as Record<string, unknown>;
  const modelType = top.model_type;
  if (typeof modelType !== 'string' || !(HF_VISION_MODEL_TYPES as readonly string[]).includes(modelType)) {
    const arch = Array.isArray(top.architectures) ? ` (${top.architectures.join(', ')})` : '';
    throw new Error(
      `${configPath}: model_type ${JSON.stringify(modelType)}${arch} is not a supported vision tower; supported: ${HF_VISION_MODEL_TYPES.join(', ')} (CLIPModel, CLIPVisionModel, SiglipModel, SiglipVisionModel)`,
    );
  }
  const variant = modelType.startsWith('siglip') ? 'siglip' : 'clip';
  // a full CLIPModel / SiglipModel nests the tower's config; a missing vision_config means all
  // defaults; CLIPConfig lets an older checkpoint's vision_config_dict (with defaults) replace it
  const nested = modelType === 'clip' ? (top.vision_config_dict ?? top.vision_config ?? {}) : modelType === 'siglip' ? (top.vision_config ?? {}) : top;
  const parsed = hfVisionConfigSchema.safeParse(nested);
  if (!parsed.success) {
    const where = nested === top ? '' : nested === top.vision_config_dict ? 'vision_config_dict.' : 'vision_config.';
    throw new Error(`${configPath}: ${parsed.error.issues.map((i) => `${where}${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const c = { ...HF_DEFAULTS[variant], ...parsed.data };
  const side = (v: number | [number, number]) => (typeof v === 'number' ? v : v[0]);
  const activation = HF_ACTIVATIONS[c.hidden_act];
  if (!activation)
    throw new Error(`${configPath}: hidden_act ${JSON.stringify(c.hidden_act)} is not supported; supported: ${Object.keys(HF_ACTIVATIONS).join(', ')}`);
  return {
    variant,
    imageSize: side(c.image_size),
    patchSize: side(c.patch_size),
    channels: c.num_channels,
    dim: c.hidden_size,
    layers: c.num_hidden_layers,
    heads: c.num_attention_heads,
    mlpHidden: c.intermediate_size,
    activation,
    normEps: c.layer_norm_eps,
    // SiglipVisionTransformer: use_head = True unless the config says vision_use_head
    attentionPool: variant === 'siglip' && (c.vision_use_head ?? true),
    ...pixelNormalisation(root, variant),
  };
}

/** image_mean / image_std from preprocessor_config.json, else the processor class's defaults. */
function pixelNormalisation(root: string, variant: 'clip' | 'siglip'): { pixelMean: number[]; pixelStd: number[] } {
  const path = join(root, 'preprocessor_config.json');
  const defaults = variant === 'clip' ? { pixelMean: OPENAI_CLIP_MEAN, pixelStd: OPENAI_CLIP_STD } : { pixelMean: HALF, pixelStd: HALF };
  let json: unknown;
  try {
    json = readJson(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return defaults;
    throw new Error(`${path} cannot be read (${(e as Error).message})`);
  }
  const parsed = preprocessorSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const p = parsed.data;
  if (p.do_normalize === false) return { pixelMean: [0, 0, 0], pixelStd: [1, 1, 1] };
  const triple = (v: number | number[] | undefined, fallback: number[]) => (v === undefined ? fallback : typeof v === 'number' ? [v, v, v] : v);
  return { pixelMean: triple(p.image_mean, defaults.pixelMean), pixelStd: triple(p.image_std, defaults.pixelStd) };
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  return a === b;
}

/**
 * zod preprocess step of `vit`: with `"from": "hf:DIR"`, fills the fields the checkpoint decides
 * from its config and reports an explicit field that disagrees, by path, instead of silently
 * building a model the weights do not fit.
 */
export function withHfVisionConfig(raw: unknown, ctx: { addIssue(issue: { code: 'custom'; path: string[]; message: string; input?: unknown }): void }): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const input = raw as Record<string, unknown>;
  if (typeof input.from !== 'string') return raw;
  let fields: HfVitFields;
  try {
    fields = hfVitFields(parseHfSpec(input.from));
  } catch (e) {
    ctx.addIssue({ code: 'custom', path: ['from'], message: (e as Error).message, input });
    return raw;
  }
  for (const key of Object.keys(fields) as (keyof HfVitFields)[]) {
    if (key in input && !sameValue(input[key], fields[key]))
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `${JSON.stringify(input[key])} disagrees with the checkpoint's ${JSON.stringify(fields[key])} (${SOURCE_KEYS[key]}); drop the field: "from" sets it`,
        input,
      });
  }
  // mlpRatio is left alone: mlpHidden, set here, overrides it
  return { ...input, ...fields };
}
