/**
 * mllm.json: what the runtime needs that HF configs have no field for. Written by the
 * exporter, checked field by field by the runtime. Pure TypeScript with no dependencies:
 * the runtime entry loads in a process that has only onnxruntime-node.
 */

export const MANIFEST_FILE = 'mllm.json';
export const MANIFEST_FORMAT = 'mllm-onnx';
export const MANIFEST_VERSION = 1;

export interface OnnxManifest {
  format: typeof MANIFEST_FORMAT;
  version: number;
  /** How weight matrices are stored: fp32, fp16 or int8 (compute is float32 in all three). */
  weights: 'fp32' | 'fp16' | 'int8';
  files: { visionEncoder: string; embedTokens: string; decoder: string };
  image: {
    /** Square canvas side the encoder takes. */
    size: number;
    channels: number;
    /** pixel_values = (x - mean) / std with x in [0, 1], laid out NCHW. */
    mean: number[];
    std: number[];
    /** Visual tokens each `<image>` becomes. */
    tokensPerImage: number;
  };
  llm: { layers: number; kvHeads: number; headDim: number; dim: number; vocabSize: number; maxPositions: number };
  special: { imageTokenId: number; padId: number; bos?: number; eos?: number; end?: number };
  /**
   * A fusion connector in the decoder: `adapter-prompts` takes `image_prefix_features` [B, 1, D]
   * (the vision encoder's output, averaged per row) at every decoder call, and `<image>` stays a
   * text token; `visual-expert` takes `image_token_mask` [B, T] (1 at the spliced image tokens);
   * `gated-cross-attention` takes `media` [B, S, D] (mediaTokens per image), `media_mask` and
   * `media_present`, and `<image>` stays a text token.
   */
  fusion?: { type: 'adapter-prompts' | 'visual-expert' } | { type: 'gated-cross-attention'; mediaTokens: number };
  /** Component configs as built (encoder, connector, llm), for the record. */
  components: Record<string, unknown>;
  /** The training run's config, when exported from a run folder (eval rebuilds its test set from it). */
  runConfig?: unknown;
}

/** A model folder that cannot be loaded; names the file and field. */
export class OnnxModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxModelError';
  }
}

const isInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Checks a parsed mllm.json; throws naming the first missing or wrong field. */
export function checkManifest(raw: unknown, file: string): OnnxManifest {
  const fail = (field: string, why: string): never => {
    throw new OnnxModelError(`${file}: field "${field}" ${why}; re-export the model with \`mllm export\``);
  };
  if (typeof raw !== 'object' || raw === null) throw new OnnxModelError(`${file}: not a JSON object; re-export the model with \`mllm export\``);
  const m = raw as Record<string, any>;
  if (m.format !== MANIFEST_FORMAT) fail('format', `must be "${MANIFEST_FORMAT}", got ${JSON.stringify(m.format)}`);
  if (m.version !== MANIFEST_VERSION) fail('version', `must be ${MANIFEST_VERSION}, got ${JSON.stringify(m.version)}`);
  if (!['fp32', 'fp16', 'int8'].includes(m.weights)) fail('weights', `must be fp32, fp16 or int8, got ${JSON.stringify(m.weights)}`);
  for (const key of ['visionEncoder', 'embedTokens', 'decoder']) if (typeof m.files?.[key] !== 'string') fail(`files.${key}`, 'is missing (a path inside the folder)');
  for (const key of ['size', 'channels', 'tokensPerImage']) if (!isInt(m.image?.[key])) fail(`image.${key}`, 'must be a non-negative integer');
  for (const key of ['mean', 'std'])
    if (!Array.isArray(m.image?.[key]) || m.image[key].length !== m.image.channels) fail(`image.${key}`, `must be an array of image.channels (${m.image?.channels}) numbers`);
  for (const key of ['layers', 'kvHeads', 'headDim', 'dim', 'vocabSize', 'maxPositions']) if (!isInt(m.llm?.[key])) fail(`llm.${key}`, 'must be a non-negative integer');
  if (m.fusion !== undefined && !['adapter-prompts', 'visual-expert', 'gated-cross-attention'].includes(m.fusion?.type))
    fail('fusion.type', `must be "gated-cross-attention", "adapter-prompts" or "visual-expert" when present, got ${JSON.stringify(m.fusion?.type)}`);
  if (m.fusion?.type === 'gated-cross-attention' && !isInt(m.fusion.mediaTokens)) fail('fusion.mediaTokens', 'must be the encoder tokens per image');
  for (const key of ['imageTokenId', 'padId']) if (!isInt(m.special?.[key])) fail(`special.${key}`, 'must be a token id');
  return m as OnnxManifest;
}
