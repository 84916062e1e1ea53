import { existsSync, statSync } from 'node:fs';
import { z } from 'zod';
import { type ConfigIssue, type Rng } from '@mllm/core';
import { fileKind } from '@mllm/core/internal';
import type { RunConfig, StageConfig } from './run-config';

/**
 * A stage's data as a weighted mixture of sources (LLaVA-1.5 mixes its 665k instructions with
 * ShareGPT's text-only conversations the same way):
 * - `shapes`: the stage's own generated Shapes-world data (what the stage trains on without a mixture);
 * - `text`: text-only Shapes conversations, the scene's caption where the image would be;
 * - `general`: general text, true statements about a scene in the words instructions use (no
 *   image, no chat template, loss on every token): what keeps an instruction-tuned LLM's
 *   language, as a released LLM's pre-training text does, so that a word it read there and never
 *   saw in an instruction still means what it meant;
 * - `llava`: a LLaVA-format JSON/JSONL file, images under `images`.
 * One source is drawn per batch, in proportion to its weight (see StageMixture).
 */
export const MIXTURE_SOURCES = ['shapes', 'text', 'general', 'llava'] as const;
export type MixtureSourceType = (typeof MIXTURE_SOURCES)[number];

const weight = z.number().positive({ message: 'must be > 0; drop the source to leave it out' }).default(1);

/** How a LLaVA source's images become the encoder's square input (see ImagePreprocessOptions in @mllm/data). */
export const LLAVA_RESIZE_MODES = ['crop', 'pad', 'stretch'] as const;

export const llavaSourceSchema = z
  .object({
    source: z.literal('llava'),
    weight,
    /** JSON array or JSONL of `{ id, image? | images?, conversations }`; relative to the working directory. */
    file: z.string().min(1),
    /** Folder the records' image paths are relative to (default: the file's folder). */
    images: z.string().min(1).optional(),
    /** Held-out records in the same format for the stage's validation loss; without it the source is not validated. */
    valFile: z.string().min(1).optional(),
    /** A malformed record or unreadable image: stop the run naming file and line (`fail`) or leave the record out and count it (`skip`). */
    onBadSample: z.enum(['skip', 'fail']).default('fail'),
    /** `stretch` is what `mllm chat` does with an image file, so training and chat see the same pixels. */
    resize: z.enum(LLAVA_RESIZE_MODES).default('stretch'),
    /** Records longer than this many tokens after image expansion are bad samples (attention cost grows with T^2). */
    maxTokens: z.number().int().min(8).default(512),
    /** A record over this many bytes of JSON is a bad sample, never parsed nor held (1 MiB: published records are a few KB). */
    maxRecordBytes: z.number().int().min(1024).default(1 << 20),
  })
  .strict();

export const mixtureSourceSchema = z.discriminatedUnion('source', [
  z.object({ source: z.literal('shapes'), weight }).strict(),
  z.object({ source: z.literal('text'), weight }).strict(),
  z.object({ source: z.literal('general'), weight }).strict(),
  llavaSourceSchema,
]);

/** A source's name in logs, stats and reports: `shapes`, `text`, `llava:<file>`. */
export function sourceLabel(source: MixtureSource): string {
  return source.source === 'llava' ? `llava:${source.file}` : source.source;
}

export const mixtureSchema = z
  .array(mixtureSourceSchema)
  .min(1, 'list at least one source, e.g. [{ "source": "shapes", "weight": 1 }]')
  .superRefine((sources, ctx) => {
    const seen = new Set<string>();
    sources.forEach((s, i) => {
      const label = sourceLabel(s);
      if (seen.has(label)) ctx.addIssue({ code: 'custom', path: [i], message: `${label} is listed twice; give it one entry with the summed weight` });
      seen.add(label);
    });
  });

export type MixtureSource = z.output<typeof mixtureSourceSchema>;
export type LlavaSourceConfig = z.output<typeof llavaSourceSchema>;

/**
 * Files a stage's mixture names that are not there, as config issues by path. Checked by the
 * pipeline before anything is built rather than in the schema, so a finished run's config still
 * parses (for `mllm eval`) after its data has moved.
 */
export function mixtureFileIssues(stages: readonly StageConfig[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  stages.forEach((stage, i) =>
    stageSources(stage).forEach((source, k) => {
      if (source.source !== 'llava') return;
      const at = `stages[${i}].data[${k}]`;
      for (const field of ['file', 'valFile'] as const) {
        const path = source[field];
        const problem = path === undefined ? undefined : notAFile(path);
        if (problem) issues.push({ path: `${at}.${field}`, message: `${path} ${problem} (paths are relative to the working directory ${process.cwd()})` });
      }
      if (source.images !== undefined && !isDirectory(source.images))
        issues.push({ path: `${at}.images`, message: `${source.images} is not a folder (paths are relative to the working directory ${process.cwd()})` });
    }),
  );
  return issues;
}

/** A stage's mixture sources; none for a stage without `data` or a type that has none. */
export function stageSources(stage: StageConfig): readonly MixtureSource[] {
  return ('data' in stage && stage.data) || [];
}

/** Whether a run trains on general text: a share of LLM pre-training under `data.instructions.generalText`, or a stage's `general` source. */
export function trainsGeneralText(config: Pick<RunConfig, 'data' | 'stages'>): boolean {
  return (config.data.instructions?.generalText ?? 0) > 0 || config.stages.some((stage) => stageSources(stage).some((s) => s.source === 'general'));
}

/** Why `path` cannot be a data file (missing, or a FIFO, device, socket or folder that would block or never end), or undefined. */
function notAFile(path: string): string | undefined {
  if (!existsSync(path)) return 'does not exist';
  const stats = statSync(path);
  return stats.isFile() ? undefined : `is ${fileKind(stats)}, not a regular file`;
}
const isDirectory = (path: string) => existsSync(path) && statSync(path).isDirectory();

/**
 * The sources of one stage with their weights. One source per batch, not per sample: a batch
 * pads to its longest row, and the sources differ most in length (a Shapes answer is a few
 * tokens after M image tokens, a LLaVA conversation can run to hundreds, a text-only sample has
 * no image tokens at all), so mixing within a batch would pay the longest source's length in
 * every row. Per-batch draws also keep a `shapes` batch identical to the stage's batch without a
 * mixture. The price is noisier gradients at small weights; over many steps each source gets its
 * share.
 */
export class StageMixture<T extends { label: string; weight: number }> {
  private readonly weights: Record<string, number>;
  private readonly byLabel: Map<string, T>;

  constructor(readonly sources: readonly T[]) {
    this.weights = Object.fromEntries(sources.map((s) => [s.label, s.weight]));
    this.byLabel = new Map(sources.map((s) => [s.label, s]));
  }

  /** One source in proportion to its weight (one draw of `rng`). */
  pick(rng: Rng): T {
    return this.byLabel.get(rng.weighted(this.weights))!;
  }
}
