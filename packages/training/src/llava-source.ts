import { MllmError } from '@mllm/core';
import { BadSampleError, LlavaDataset, type BadSample, type LlavaRecord } from '@mllm/data';
import type { ModelImage, TokenizedSample } from '@mllm/model';
import { SPECIAL_TOKENS, WordTokenizer, applyChatTemplate, type TextTokenizer } from '@mllm/tokenizer';
import { stageSources, type LlavaSourceConfig } from './data-mixture';
import type { StageConfig } from './run-config';

/** What a LLaVA record becomes for training: its sizes come from the model it trains. */
export interface LlavaPrepareOptions {
  tokenizer: TextTokenizer;
  /** The side images are decoded and resized to, once, before the stage runs: the model's input size. */
  imageSize: number;
  /** Sequence positions one image takes (the connector's M; 1 where `<image>` stays a text token). */
  tokensPerImage: number;
  /**
   * A tiled encoder's canvas for an image of width x height (its grid for that aspect ratio):
   * each image is then resized into it with `pad`, keeping its aspect ratio as LLaVA-NeXT does,
   * instead of to the square imageSize with the source's `resize`.
   */
  canvasFor?: (width: number, height: number) => { width: number; height: number };
  /** Sequence positions of one image when they differ by canvas (MultimodalModel.tokensFor); with canvasFor. */
  tokensFor?: (image: ModelImage) => number;
}

/** Skipped records of one file, for the run report. */
export interface SkippedReport {
  count: number;
  /** `file:line: reason`, one per skipped record. */
  reasons: string[];
}

/**
 * The LLaVA files a run's stages read, each opened once (records parsed and checked by
 * LlavaDataset) and each stage's samples prepared once: tokenized with the chat template and
 * every image decoded at the model's input size. The step loop is synchronous, so images are
 * decoded before the stage starts and held in memory: imageSize^2 x 3 float32 per image
 * (12 KiB at 32 px, 588 KiB at 224 px), e.g. 120 MiB for 10k images at 32 px.
 */
export class LlavaSources {
  private readonly datasets = new Map<string, Promise<LlavaDataset>>();
  private readonly prepared = new Map<string, Promise<TokenizedSample[]>>();
  /** Records dropped before training (too long, image that would not decode), by file. */
  private readonly dropped = new Map<string, BadSample[]>();
  /** Datasets whose open has finished, for skipped(). */
  private readonly opened: LlavaDataset[] = [];

  /** The file opened with the source's image folder and bad-sample policy (once per combination). */
  dataset(source: LlavaSourceConfig, which: 'file' | 'valFile' = 'file'): Promise<LlavaDataset> {
    const file = source[which]!;
    const key = JSON.stringify([file, source.images, source.onBadSample, source.maxRecordBytes]);
    let pending = this.datasets.get(key);
    if (!pending) {
      // image headers are read with the text (a missing, non-regular or oversized image is a bad sample
      // before the tokenizer learns the record's words); pixels are decoded when a stage prepares
      const options = { ...(source.images !== undefined && { imageDir: source.images }), onBadSample: source.onBadSample, maxRecordBytes: source.maxRecordBytes, checkImages: true };
      pending = LlavaDataset.open(file, options).then((d) => {
        this.opened.push(d);
        return d;
      });
      this.datasets.set(key, pending);
    }
    return pending;
  }

  /**
   * Every turn of the records the stages can train on, from every LLaVA file they read (training
   * and validation files), for the word tokenizer: a word it never saw would be `<unk>` in
   * training. A record is accepted here by every check that needs no model: the reader's (JSON,
   * schema, turns, size, image headers) and its length without image expansion, counted with
   * `tokenizer` (the run's HF tokenizer; else a word-level count, which any vocabulary gives the
   * same). A record too long already is a bad sample now, so its words never reach the vocabulary;
   * what needs the model (tokens per image, decoded pixels) is checked when a stage prepares.
   */
  async corpus(stages: readonly StageConfig[], tokenizer: TextTokenizer = new WordTokenizer(SPECIAL_TOKENS)): Promise<string[]> {
    const text: string[] = [];
    for (const source of llavaSourcesOf(stages)) {
      for (const which of ['file', 'valFile'] as const) {
        if (source[which] === undefined) continue;
        for (const record of (await this.dataset(source, which)).records) {
          const length = applyChatTemplate(tokenizer, record.conversations).ids.length;
          if (length > source.maxTokens) {
            this.refuse(record, source, `${length} tokens before its ${record.images.length} image(s) are expanded, over the source's maxTokens ${source.maxTokens}; raise maxTokens or shorten the conversation`);
            continue;
          }
          for (const turn of record.conversations) text.push(turn.value);
        }
      }
    }
    return text;
  }

  /** A record left out before training: a bad sample, skipped and counted or fatal per `onBadSample` (prepare drops it again; skipped() counts each line once). */
  private refuse(record: LlavaRecord, source: LlavaSourceConfig, reason: string): void {
    const error = new BadSampleError({ file: record.file, line: record.line, reason: `sample "${record.id}": ${reason}` });
    if (source.onBadSample === 'fail') throw error;
    const list = this.dropped.get(record.file) ?? [];
    list.push(error.bad);
    this.dropped.set(record.file, list);
  }

  /** The source's records as training samples with decoded images; bad records skipped or fatal per `onBadSample`. */
  samples(source: LlavaSourceConfig, which: 'file' | 'valFile', options: LlavaPrepareOptions): Promise<TokenizedSample[]> {
    const key = JSON.stringify([source[which], source.images, source.onBadSample, source.maxRecordBytes, source.resize, source.maxTokens, options.imageSize, options.tokensPerImage, options.canvasFor !== undefined]);
    let samples = this.prepared.get(key);
    if (!samples) {
      samples = this.prepare(source, which, options);
      this.prepared.set(key, samples);
    }
    return samples;
  }

  private async prepare(source: LlavaSourceConfig, which: 'file' | 'valFile', options: LlavaPrepareOptions): Promise<TokenizedSample[]> {
    const file = source[which]!;
    const dataset = await this.dataset(source, which);
    const out: TokenizedSample[] = [];
    for (const record of dataset.records) {
      const sample = await this.prepareRecord(dataset, record, source, options).catch((e: unknown) => {
        if (!(e instanceof BadSampleError) || source.onBadSample === 'fail') throw e;
        const list = this.dropped.get(record.file) ?? [];
        list.push(e.bad);
        this.dropped.set(record.file, list);
        return undefined;
      });
      if (sample) out.push(sample);
    }
    if (out.length === 0) throw new MllmError(`${file}: no usable records (${dataset.skipped.length + (this.dropped.get(file)?.length ?? 0)} skipped); see the skipped samples in the run report`);
    return out;
  }

  private async prepareRecord(dataset: LlavaDataset, record: LlavaRecord, source: LlavaSourceConfig, options: LlavaPrepareOptions): Promise<TokenizedSample> {
    const { tokenizer } = options;
    const bad = (reason: string) => new BadSampleError({ file: record.file, line: record.line, reason: `sample "${record.id}": ${reason}` });
    const { ids, lossMask } = applyChatTemplate(tokenizer, record.conversations);
    const placeholders = ids.filter((id) => id === tokenizer.special.image).length;
    if (placeholders !== record.images.length) throw bad(`${placeholders} <image> placeholders but ${record.images.length} images; put one <image> per image in the human turns`);
    const tooLong = (length: number, each: string) =>
      bad(`${length} tokens with its ${placeholders} image(s) at ${each} tokens each, over the source's maxTokens ${source.maxTokens}; raise maxTokens or shorten the conversation`);
    const { canvasFor, tokensFor } = options;
    if (canvasFor && tokensFor) {
      // each image's token count depends on its canvas, known once its header is read
      const images = record.images.length > 0 ? await dataset.loadSizedImages(record, (size) => ({ size: canvasFor(size.width, size.height), mode: 'pad' })) : [];
      const counts = images.map((image) => tokensFor(image));
      const length = ids.length + counts.reduce((a, m) => a + m - 1, 0);
      if (length > source.maxTokens) throw tooLong(length, counts.join(', '));
      return { ids, lossMask, images };
    }
    const length = ids.length + placeholders * (options.tokensPerImage - 1);
    if (length > source.maxTokens) throw tooLong(length, String(options.tokensPerImage));
    // loadImages throws a BadSampleError (file:line) for a missing, corrupt or oversized image
    const images = record.images.length > 0 ? await dataset.loadImages(record, { size: options.imageSize, mode: source.resize }) : [];
    return { ids, lossMask, images };
  }

  /** Skipped records of every file read (0 for a clean one): those LlavaDataset refused on reading and those dropped while preparing. */
  skipped(): Record<string, SkippedReport> {
    const byFile = new Map<string, Map<number, string>>();
    const add = (s: BadSample) => {
      const lines = byFile.get(s.file) ?? new Map<number, string>();
      if (!lines.has(s.line)) lines.set(s.line, `${s.file}:${s.line}: ${s.reason}`);
      byFile.set(s.file, lines);
    };
    for (const dataset of this.opened) {
      if (!byFile.has(dataset.file)) byFile.set(dataset.file, new Map());
      dataset.skipped.forEach(add);
    }
    for (const list of this.dropped.values()) list.forEach(add);
    return Object.fromEntries([...byFile].map(([file, lines]) => [file, { count: lines.size, reasons: [...lines].sort(([a], [b]) => a - b).map(([, r]) => r) }]));
  }
}

/** The LLaVA sources of a list of stages, in stage order. */
export function llavaSourcesOf(stages: readonly StageConfig[]): LlavaSourceConfig[] {
  return stages.flatMap((s) => stageSources(s).filter((d): d is LlavaSourceConfig => d.source === 'llava'));
}
