import { MllmError } from '@mllm/core';
import type { ImageSlot } from './splice';
import type { ModelImage } from './image-input';

/** One conversation already tokenized by the chat template, with its images in `<image>` order. */
export interface TokenizedSample {
  ids: number[];
  /** 1 where the token is a training target. */
  lossMask: number[];
  /** A bare array is the encoder's square canvas; an ImageInput carries another canvas shape (a tiled encoder's grid). */
  images: ModelImage[];
}

export interface ModelBatch {
  /** [B][T] input ids; each `<image>` expanded to M image-token placeholders. */
  inputIds: number[][];
  /** [B][T] next-token targets (inputs shifted by one) and their weights. */
  targets: number[][];
  weights: number[][];
  attentionMask: number[][];
  images: ModelImage[];
  slots: ImageSlot[];
  /**
   * Per row, where the prompt ends: the position of the first trained token (see
   * `prefixLengthsFromWeights`); a prompt batch's whole width. Read by LLMs with `needsPrefix`
   * (prefix LM, encoder-decoder). Absent: derived from `weights`.
   */
  prefixLengths?: number[];
}

/**
 * Per row, the prefix a prefix LM attends to bidirectionally (an encoder-decoder encodes): every
 * position before the first trained token, so image tokens and instruction, never a token the
 * prefix would have to predict. `weights[t]` weighs the target at t + 1, so that token sits at
 * t + 1. A row with no trained token is all prefix. Text-only pretraining rows train every token
 * after the first, so their prefix is 1: the causal LM (and a one-token encoder input).
 * Multi-turn rows: later instructions follow the first answer and stay causal.
 */
export function prefixLengthsFromWeights(weights: number[][]): number[] {
  return weights.map((row) => {
    const first = row.findIndex((w) => w > 0);
    return first < 0 ? row.length : first + 1;
  });
}

export interface BatchOptions {
  imageTokenId: number;
  padId: number;
  /** Visual tokens of the square image (a bare Float32Array). */
  tokensPerImage: number;
  /** Visual tokens of each image when they differ by canvas shape (MultimodalModel.tokensFor); absent: tokensPerImage for all. */
  tokensFor?: (image: ModelImage) => number;
  maxLength?: number;
}

/** Expands each `<image>` id into that image's M placeholder positions and records where the image goes. */
export function expandImages(sample: TokenizedSample, options: BatchOptions): { ids: number[]; lossMask: number[]; starts: number[] } {
  const ids: number[] = [];
  const lossMask: number[] = [];
  const starts: number[] = [];
  sample.ids.forEach((id, i) => {
    if (id === options.imageTokenId) {
      const image = sample.images[starts.length];
      const tokens = image && options.tokensFor ? options.tokensFor(image) : options.tokensPerImage;
      starts.push(ids.length);
      for (let j = 0; j < tokens; j++) {
        ids.push(id);
        lossMask.push(0);
      }
    } else {
      ids.push(id);
      lossMask.push(sample.lossMask[i] ?? 0);
    }
  });
  if (starts.length !== sample.images.length)
    throw new MllmError(`sample has ${starts.length} <image> tokens but ${sample.images.length} images; each <image> needs exactly one image`);
  if (options.maxLength && ids.length > options.maxLength)
    throw new MllmError(`sample is ${ids.length} tokens after image expansion, over maxLength ${options.maxLength}; raise data.maxLength or shorten the text`);
  return { ids, lossMask, starts };
}

/** Right-padded training batch with shifted targets: position t predicts token t + 1. */
export function collateTraining(samples: TokenizedSample[], options: BatchOptions): ModelBatch {
  const expanded = samples.map((s) => expandImages(s, options));
  const length = Math.max(...expanded.map((e) => e.ids.length)) - 1;
  const batch: ModelBatch = { inputIds: [], targets: [], weights: [], attentionMask: [], images: [], slots: [], prefixLengths: [] };
  expanded.forEach((e, row) => {
    const pad = length + 1 - e.ids.length;
    const ids = [...e.ids, ...new Array<number>(pad).fill(options.padId)];
    const mask = [...e.lossMask, ...new Array<number>(pad).fill(0)];
    batch.inputIds.push(ids.slice(0, length));
    batch.targets.push(ids.slice(1));
    batch.weights.push(mask.slice(1));
    batch.attentionMask.push(ids.slice(0, length).map((_, t) => (t < e.ids.length ? 1 : 0)));
    batch.prefixLengths!.push(prefixLengthsFromWeights([mask.slice(1)])[0]!);
    e.starts.forEach((start, k) => {
      batch.slots.push({ row, start });
      batch.images.push(samples[row]!.images[k]!);
    });
  });
  return batch;
}

/** Left-padded prompts for generation, so every row's next token is at the end; the whole prompt is each row's prefix. */
export function collatePrompts(samples: TokenizedSample[], options: BatchOptions): Omit<ModelBatch, 'targets' | 'weights'> {
  const expanded = samples.map((s) => expandImages(s, options));
  const length = Math.max(...expanded.map((e) => e.ids.length));
  const batch: Omit<ModelBatch, 'targets' | 'weights'> = { inputIds: [], attentionMask: [], images: [], slots: [], prefixLengths: expanded.map(() => length) };
  expanded.forEach((e, row) => {
    const pad = length - e.ids.length;
    batch.inputIds.push([...new Array<number>(pad).fill(options.padId), ...e.ids]);
    batch.attentionMask.push([...new Array<number>(pad).fill(0), ...e.ids.map(() => 1)]);
    e.starts.forEach((start, k) => {
      batch.slots.push({ row, start: start + pad });
      batch.images.push(samples[row]!.images[k]!);
    });
  });
  return batch;
}
