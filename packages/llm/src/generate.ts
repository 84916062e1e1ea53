import * as tf from '@tensorflow/tfjs';
import { ConfigError, type ImageAttentionBoost, type LanguageModel, type LayerFusion } from '@mllm/core';
import { createKvCache, disposeKvCache } from './kv-cache';
import { resolveGenerateOptions, type GenerateOptions, type ResolvedGenerateOptions } from './generation-options';
import { TokenPicker } from './token-picker';
import { contrastLogits } from './contrastive-decoding';
import { RowOutput, type ReleasedToken } from './row-output';

/** What `generate` continues. Shapes: B rows, T prompt tokens, D width. */
export interface GenerationPrompt {
  /** [B, T, D], left-padded so every row's next token sits at the end. */
  embeds: tf.Tensor3D;
  /** [B, T] 1 for real tokens, 0 for padding. */
  attentionMask: number[][];
  /** [B, T] the ids behind `embeds` (an image's positions hold its placeholder id); the repetition penalty needs them. */
  inputIds?: number[][];
  /** A fusion connector bound to the prompt images: it goes into every step, since the cache holds only self-attention keys/values. */
  fusion?: LayerFusion;
  /** For a prefix-LM attention pattern: per row, how many leading positions attend bidirectionally. */
  prefixLengths?: number[];
  /**
   * The same rows with a distorted input (e.g. a noised image, same positions), decoded in
   * lockstep for the `contrastive` option; its tensors are the caller's too.
   */
  contrast?: Omit<GenerationPrompt, 'inputIds' | 'contrast'>;
  /** Per row, the prompt positions that hold image tokens, for the `imageAttention` option. */
  imageKeys?: number[][];
}

export type FinishReason = 'stop-token' | 'stop-string' | 'max-new-tokens';

/**
 * A streamed generation event. Each row gets its tokens in order, then exactly one `end`. `text`
 * (only with a `decode` option) is what the token adds to the row's text; the row's text is the
 * concatenation of all its events' text, cut before a stop string.
 */
export type GenerationEvent =
  | ({ type: 'token'; row: number } & ReleasedToken)
  | { type: 'end'; row: number; reason: FinishReason; text?: string };

export interface GenerationResult {
  tokens: number[][];
  /** Per row, present with a `decode` option. */
  texts?: string[];
  finishReasons: FinishReason[];
}

/** Next-token logits [B, V]: after the prompt, then after each step's new tokens. */
interface LogitsSource {
  afterPrompt(): tf.Tensor2D;
  afterTokens(ids: number[]): tf.Tensor2D;
  dispose(): void;
}

const lastPosition = (logits: tf.Tensor3D): tf.Tensor2D => {
  const [b, t, v] = logits.shape;
  return logits.slice([0, t - 1, 0], [b, 1, v]).reshape([b, v]);
};

/** KV cache: one prefill over the prompt, then one token per row and step. */
function cachedLogits(lm: LanguageModel, prompt: GenerationPrompt, imageAttention?: ImageAttentionBoost): LogitsSource {
  const cache = createKvCache();
  const { fusion, prefixLengths } = prompt;
  return {
    afterPrompt: () => tf.tidy(() => lastPosition(lm.forward(prompt.embeds, { attentionMask: prompt.attentionMask, cache, fusion, prefixLengths, imageAttention }).logits)),
    afterTokens: (ids) =>
      tf.tidy(() => {
        const embeds = lm.embed(tf.tensor2d(ids, [ids.length, 1], 'int32')); // [B, 1, D]
        return lastPosition(lm.forward(embeds, { attentionMask: ids.map(() => [1]), cache, fusion, prefixLengths, imageAttention }).logits);
      }),
    dispose: () => disposeKvCache(cache),
  };
}

/** No cache: the whole sequence through the LM at every step (HF use_cache=False). */
function recomputedLogits(lm: LanguageModel, prompt: GenerationPrompt, imageAttention?: ImageAttentionBoost): LogitsSource {
  let embeds = prompt.embeds; // [B, T + steps, D]
  const attentionMask = prompt.attentionMask.map((row) => [...row]);
  const forward = () => tf.tidy(() => lastPosition(lm.forward(embeds, { attentionMask, fusion: prompt.fusion, prefixLengths: prompt.prefixLengths, imageAttention }).logits));
  return {
    afterPrompt: forward,
    afterTokens: (ids) => {
      const grown = tf.tidy(() => tf.concat([embeds, lm.embed(tf.tensor2d(ids, [ids.length, 1], 'int32'))], 1) as tf.Tensor3D);
      if (embeds !== prompt.embeds) embeds.dispose();
      embeds = grown;
      attentionMask.forEach((row) => row.push(1));
      return forward();
    },
    dispose: () => {
      if (embeds !== prompt.embeds) embeds.dispose();
    },
  };
}

/**
 * The decoding loop every entry point shares: each step picks one token per row (HF processors,
 * greedy or seeded sampling) and yields that step's events. The caller keeps owning the prompt
 * tensors; stopping the iteration early frees everything the loop holds.
 */
function* decodeSteps(lm: LanguageModel, prompt: GenerationPrompt, o: ResolvedGenerateOptions): Generator<GenerationEvent[], void, undefined> {
  const b = prompt.embeds.shape[0];
  const picker = new TokenPicker(o, b, prompt.inputIds, prompt.attentionMask);
  const rows = Array.from({ length: b }, () => new RowOutput(o.decode, o.stopStrings));
  const done = new Array<boolean>(b).fill(false);
  const boost = o.imageAttention && o.imageAttention.alpha > 0 ? { imageKeys: prompt.imageKeys!, queriesFrom: prompt.embeds.shape[1] - 1, ...o.imageAttention } : undefined;
  const sourceFor = (p: Omit<GenerationPrompt, 'contrast'>) => (o.useCache ? cachedLogits(lm, p, boost) : recomputedLogits(lm, p, boost));
  const source = sourceFor(prompt);
  const contrastive = o.contrastive && o.contrastive.alpha > 0 ? o.contrastive : undefined;
  const contrastSource = contrastive ? sourceFor(prompt.contrast!) : undefined;
  let logits: tf.Tensor2D | undefined;
  let contrastLogitsNow: tf.Tensor2D | undefined;
  try {
    logits = source.afterPrompt();
    contrastLogitsNow = contrastSource?.afterPrompt();
    for (let step = 0; step < o.maxNewTokens; step++) {
      const [, vocab] = logits.shape;
      let flat = logits.dataSync() as Float32Array; // one flat read: nested arraySync costs ~10 ms at a 32k vocab
      if (contrastLogitsNow) {
        flat = contrastLogits(flat, contrastLogitsNow.dataSync(), vocab!, contrastive!);
        contrastLogitsNow.dispose();
        contrastLogitsNow = undefined;
      }
      logits.dispose();
      logits = undefined;
      const next = picker.pick(Array.from({ length: b }, (_, r) => flat.subarray(r * vocab, (r + 1) * vocab)));
      const events: GenerationEvent[] = [];
      const emit = (row: number, released: ReleasedToken[]) => released.forEach((t) => events.push({ type: 'token', row, ...t }));
      const finish = (row: number, reason: FinishReason, cut?: number) => {
        done[row] = true;
        const { released, text } = rows[row]!.end(cut);
        emit(row, released);
        events.push(text === undefined ? { type: 'end', row, reason } : { type: 'end', row, reason, text });
      };
      next.forEach((id, row) => {
        if (done[row]) return;
        if (o.stopTokens.includes(id)) return finish(row, 'stop-token');
        const { released, stopAt } = rows[row]!.push(id);
        emit(row, released);
        if (stopAt !== undefined) finish(row, 'stop-string', stopAt);
        else if (step === o.maxNewTokens - 1) finish(row, 'max-new-tokens');
      });
      yield events;
      if (done.every(Boolean)) return;
      logits = source.afterTokens(next); // finished rows go on decoding, their tokens unused
      contrastLogitsNow = contrastSource?.afterTokens(next);
    }
  } finally {
    logits?.dispose();
    contrastLogitsNow?.dispose();
    source.dispose();
    contrastSource?.dispose();
  }
}

function checkedOptions(lm: LanguageModel, prompt: GenerationPrompt, options: GenerateOptions): ResolvedGenerateOptions {
  const o = resolveGenerateOptions(options, lm.vocabSize);
  const b = prompt.embeds.shape[0];
  if (prompt.attentionMask.length !== b) throw new ConfigError([{ path: 'attentionMask', message: `${prompt.attentionMask.length} rows for ${b} prompts` }], 'Invalid generation prompt');
  if (o.contrastive && o.contrastive.alpha > 0) {
    const c = prompt.contrast;
    const same = c && c.embeds.shape.every((n, i) => n === prompt.embeds.shape[i]) && c.attentionMask.length === b;
    if (!same)
      throw new ConfigError(
        [{ path: 'contrastive', message: `needs prompt.contrast: the same ${b} rows of ${prompt.embeds.shape[1]} positions with a distorted input (${c ? `got [${c.embeds.shape.join(', ')}]` : 'none given'})` }],
        'Invalid generation options',
      );
  }
  if (o.imageAttention && o.imageAttention.alpha > 0) {
    const fail = (message: string) => {
      throw new ConfigError([{ path: 'imageAttention', message }], 'Invalid generation options');
    };
    if (!lm.boostsImageAttention) fail('this LLM does not take an image-attention boost (the causal and prefix LMs do)');
    if (!prompt.imageKeys || prompt.imageKeys.length !== b) fail(`needs prompt.imageKeys: per row (${b}), the prompt positions of image tokens`);
    if (o.imageAttention.fromLayer >= lm.numLayers) fail(`fromLayer ${o.imageAttention.fromLayer} boosts nothing: the LLM has ${lm.numLayers} layers (0-${lm.numLayers - 1})`);
  }
  if (o.repetitionPenalty !== 1 && !prompt.inputIds)
    throw new ConfigError([{ path: 'repetitionPenalty', message: 'needs the prompt ids (prompt.inputIds), since HF penalises the prompt tokens too' }], 'Invalid generation options');
  return o;
}

/**
 * Every step's events, one array per step, decoded lazily. Options are checked now; decoding starts
 * at the first `next()`.
 */
export function generationSteps(lm: LanguageModel, prompt: GenerationPrompt, options: GenerateOptions): Generator<GenerationEvent[], void, undefined> {
  return decodeSteps(lm, prompt, checkedOptions(lm, prompt, options));
}

/** Tokens, text and finish reason of every row, gathered from the steps' events. */
export function collectGeneration(steps: Iterable<GenerationEvent[]>, rows: number): GenerationResult {
  const tokens: number[][] = Array.from({ length: rows }, () => []);
  const texts: string[] = new Array<string>(rows).fill('');
  const finishReasons: FinishReason[] = new Array<FinishReason>(rows).fill('max-new-tokens');
  let hasText = false;
  for (const events of steps)
    for (const e of events) {
      if (e.type === 'token') tokens[e.row]!.push(e.token);
      else finishReasons[e.row] = e.reason;
      if (e.text !== undefined) {
        hasText = true;
        texts[e.row] += e.text;
      }
    }
  return hasText ? { tokens, texts, finishReasons } : { tokens, finishReasons };
}

/** Generates to the end and returns tokens, text (with `decode`) and why each row ended. */
export function generateDetailed(lm: LanguageModel, prompt: GenerationPrompt, options: GenerateOptions): GenerationResult {
  return collectGeneration(generationSteps(lm, prompt, options), prompt.embeds.shape[0]);
}

/** Autoregressive decoding of a batch of prompts; the new token ids of each row (stop token excluded). */
export function generateFromEmbeddings(lm: LanguageModel, prompt: GenerationPrompt, options: GenerateOptions): number[][] {
  return generateDetailed(lm, prompt, options).tokens;
}

const nextTurn = () => new Promise<void>((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/**
 * The same decoding as `generateFromEmbeddings`, streamed: events as each step makes them, with a
 * turn of the event loop between steps so output written per token reaches the terminal. Options
 * are checked now; `break` out of the loop to stop early.
 */
export function generateStream(lm: LanguageModel, prompt: GenerationPrompt, options: GenerateOptions): AsyncGenerator<GenerationEvent, void, undefined> {
  return streamSteps(generationSteps(lm, prompt, options));
}

/** Any step iterator as an async stream of single events. */
export async function* streamSteps(steps: Iterable<GenerationEvent[]>): AsyncGenerator<GenerationEvent, void, undefined> {
  for (const events of steps) {
    yield* events;
    await nextTurn();
  }
}
