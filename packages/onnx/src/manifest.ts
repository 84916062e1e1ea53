import { z } from 'zod';

/**
 * mllm.json: what the runtime needs that HF configs have no field for. Written by the
 * exporter, parsed by the runtime with the zod schema below (the single source of the type).
 * Imports only zod: the runtime entry loads in a process that has no tfjs.
 */

export const MANIFEST_FILE = 'mllm.json';
export const MANIFEST_FORMAT = 'mllm-onnx';
export const MANIFEST_VERSION = 1;

/** How `mllm.json` problems end: every one of them is fixed the same way. */
export const REEXPORT_HINT = 're-export the model with `mllm export`';

/** A model folder that cannot be loaded, or whose graphs fail in onnxruntime; names the file and field. */
export class OnnxModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxModelError';
  }
}

/**
 * Upper bounds of the sizes the runtime allocates from (pixel buffers, KV caches, logits rows)
 * before any graph is run. The exporter never writes more: each is far above what a model that
 * fits in memory needs, and low enough that a tampered value is refused instead of allocated.
 */
export const MANIFEST_LIMITS = {
  /** 4096² float32 RGB is 200 MB per image; the largest HF vision towers take 896-1536. */
  imageSize: 4096,
  channels: 4,
  /** Visual tokens per image: 64x64 patches of the largest canvas above. */
  tokensPerImage: 16384,
  layers: 1024,
  heads: 1024,
  headDim: 4096,
  dim: 65536,
  /** 2^20 ids: the largest published vocabularies are ~256k. */
  vocabSize: 1_048_576,
  maxPositions: 1_048_576,
} as const;

const count = (max: number) => z.number().int('must be an integer').min(1, 'must be at least 1').max(max, `must be at most ${max}`);
const tokenId = z.number().int('must be a token id (an integer)').min(0, 'must be a token id (>= 0)');
const finite = z.number().refine(Number.isFinite, 'must be a finite number');

// POSIX and Windows absolute paths, and any `..` segment, leave the folder
const insideFolder = (p: string) => !/^([/\\]|[A-Za-z]:)/.test(p) && !p.split(/[/\\]/).includes('..');
const modelFile = z.string().min(1, 'must name a file').refine(insideFolder, 'must be a path inside the model folder (not absolute, no "..")');

const fusionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('adapter-prompts') }),
  z.object({ type: z.literal('visual-expert') }),
  z.object({ type: z.literal('gated-cross-attention'), mediaTokens: count(MANIFEST_LIMITS.tokensPerImage) }),
]);

export const manifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    version: z.literal(MANIFEST_VERSION),
    /** How weight matrices are stored: fp32, fp16 or int8 (compute is float32 in all three). */
    weights: z.enum(['fp32', 'fp16', 'int8']),
    files: z.object({ visionEncoder: modelFile, embedTokens: modelFile, decoder: modelFile }),
    /** ONNX external data files of the graphs whose weights are not inside the .onnx file (`<graph>.onnx_data`). */
    externalData: z.object({ visionEncoder: modelFile.optional(), embedTokens: modelFile.optional(), decoder: modelFile.optional() }).optional(),
    image: z.object({
      /** Square canvas side the encoder takes. */
      size: count(MANIFEST_LIMITS.imageSize),
      channels: count(MANIFEST_LIMITS.channels),
      /** pixel_values = (x - mean) / std with x in [0, 1], laid out NCHW. */
      mean: z.array(finite),
      std: z.array(finite.refine((v) => v > 0, 'must be > 0 (pixels are divided by it)')),
      /** Visual tokens each `<image>` becomes. */
      tokensPerImage: count(MANIFEST_LIMITS.tokensPerImage),
    }),
    llm: z.object({
      layers: count(MANIFEST_LIMITS.layers),
      kvHeads: count(MANIFEST_LIMITS.heads),
      headDim: count(MANIFEST_LIMITS.headDim),
      dim: count(MANIFEST_LIMITS.dim),
      vocabSize: count(MANIFEST_LIMITS.vocabSize),
      maxPositions: count(MANIFEST_LIMITS.maxPositions),
      /**
       * 'prefix': the decoder's attention (GroupQueryAttention) reads each row's keys as a prefix
       * of its cache, as many as the row's attention_mask sum, so a runtime keeping the cache writes
       * each call's keys behind each row's own length. Absent: 'appended', every row's cache one
       * length, the mask marking its padding.
       */
      cache: z.enum(['appended', 'prefix']).optional(),
    }),
    special: z.object({ imageTokenId: tokenId, padId: tokenId, bos: tokenId.optional(), eos: tokenId.optional(), end: tokenId.optional() }),
    /**
     * A fusion connector in the decoder: `adapter-prompts` takes `image_prefix_features` [B, 1, D]
     * (the vision encoder's output, averaged per row) at every decoder call, and `<image>` stays a
     * text token; `visual-expert` takes `image_token_mask` [B, T] (1 at the spliced image tokens);
     * `gated-cross-attention` takes `media` [B, S, D] (mediaTokens per image), `media_mask` and
     * `media_present`, and `<image>` stays a text token.
     */
    fusion: fusionSchema.optional(),
    /** Component configs as built (encoder, connector, llm), for the record. */
    components: z.record(z.string(), z.unknown()),
    /** The training run's config, when exported from a run folder (eval rebuilds its test set from it). */
    runConfig: z.unknown().optional(),
  })
  .superRefine((m, ctx) => {
    for (const key of ['mean', 'std'] as const)
      if (m.image[key].length !== m.image.channels) ctx.addIssue({ code: 'custom', path: ['image', key], message: `must hold image.channels (${m.image.channels}) numbers, has ${m.image[key].length}` });
    for (const [key, id] of Object.entries(m.special))
      if (id !== undefined && id >= m.llm.vocabSize) ctx.addIssue({ code: 'custom', path: ['special', key], message: `is ${id}, outside the vocabulary (llm.vocabSize ${m.llm.vocabSize})` });
    // adapter prompts and gated cross-attention keep `<image>` one text token; more would add ids the model never saw
    if ((m.fusion?.type === 'adapter-prompts' || m.fusion?.type === 'gated-cross-attention') && m.image.tokensPerImage !== 1)
      ctx.addIssue({ code: 'custom', path: ['image', 'tokensPerImage'], message: `must be 1 with the ${m.fusion.type} connector (<image> stays one text token), got ${m.image.tokensPerImage}` });
  });

export type OnnxManifest = z.output<typeof manifestSchema>;

/** Parses mllm.json; throws one OnnxModelError naming every wrong field by its JSON path. */
export function checkManifest(raw: unknown, file: string): OnnxManifest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new OnnxModelError(`${file}: not a JSON object; ${REEXPORT_HINT}`);
  const parsed = manifestSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const path = issue.path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('');
    const got = valueAt(raw, issue.path);
    const shown = got === undefined ? 'missing' : JSON.stringify(got);
    return `field "${path}" ${messageOf(issue)} (got ${shown && shown.length > 40 ? `${shown.slice(0, 40)}...` : shown})`;
  });
  throw new OnnxModelError(`${file}: ${problems.join('; ')}; ${REEXPORT_HINT}`);
}

function messageOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value') return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
  if (issue.code === 'invalid_union' && 'discriminator' in issue) return 'must be "adapter-prompts", "visual-expert" or "gated-cross-attention" when present';
  if (issue.code === 'invalid_type') return `must be ${issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`}`;
  return issue.message;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}
