import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, loadSafetensors } from '@mllm/core';
import { loadImageFile } from '@mllm/data';
import type { EvalReport } from '@mllm/eval';
import type { GenerateOptions, GenerationEvent } from '@mllm/llm';
import { loadTokenizer } from '@mllm/tokenizer';
import { parseRunConfig } from '@mllm/training';
import { streamAnswer } from './answerer';
import { evaluateSession } from './run';
import { registryFor } from './plugins';
import { createSession, type Session } from './session';

/** An image to ask about: a file path, encoded bytes (PNG, JPEG, ...), or HWC RGB pixels in [0, 1] at the encoder's size. */
export type ImageSource = string | Uint8Array | Float32Array;

/** Decoding options of `answer` (greedy by default; `temperature` > 0 samples with `seed`); maxNewTokens defaults to the run's eval.maxNewTokens. */
export type AnswerOptions = Partial<Omit<GenerateOptions, 'decode' | 'stopTokens'>>;

/** A finished run, reopened: its parts, plus answering and evaluation with the run's own chat template. */
export interface OpenedRun extends Session {
  /** The run folder. */
  dir: string;
  /** One answer about `image`, the prompt put in the chat template the run trained with; greedy unless `options` sample. */
  answer(image: ImageSource, prompt: string, options?: AnswerOptions): Promise<string>;
  /** `answer`, streamed: the text of each token as it is made, then an `end` event. */
  stream(image: ImageSource, prompt: string, options?: AnswerOptions): AsyncGenerator<GenerationEvent, void, undefined>;
  /** The run's evaluation (POPE, CHAIR, closed-set, ...) on its test scenes, as `report.json` has it. */
  evaluate(): Promise<EvalReport>;
  /** Frees the model's tensors. */
  dispose(): void;
}

/** The pixels an ImageSource stands for, at the encoder's size. */
async function pixelsOf(image: ImageSource, size: number): Promise<Float32Array> {
  if (image instanceof Float32Array) return image;
  return loadImageFile(typeof image === 'string' ? image : Buffer.from(image.buffer, image.byteOffset, image.byteLength), size);
}

/**
 * Reopens a finished run folder: its config (with the plugins it names), tokenizer and trained
 * weights, ready to answer.
 */
export async function openRun(dir: string): Promise<OpenedRun> {
  const configPath = join(dir, 'config.json');
  let stored: unknown;
  try {
    stored = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(configPath, code === 'ENOENT' ? 'not found; pass the folder of a finished `mllm run`' : `is not valid JSON (${(e as Error).message})`);
  }
  const { registry, raw } = await registryFor(stored, dir);
  const config = parseRunConfig(raw, registry);
  const tokenizer = await loadTokenizer(dir); // the word vocabulary, or the HF tokenizer a run started from
  const session = createSession(config, registry, tokenizer);
  const weights = join(dir, 'model.safetensors');
  try {
    const { tensors } = await loadSafetensors(weights);
    session.model.loadStateDict(tensors, { source: weights });
    for (const t of Object.values(tensors)) t.dispose();
  } catch (e) {
    session.model.dispose();
    throw e;
  }
  session.model.eval();
  const { model } = session;
  const size = model.encoder.imageSize;
  const stream = async function* (image: ImageSource, prompt: string, options: AnswerOptions = {}) {
    yield* streamAnswer(model, tokenizer, await pixelsOf(image, size), prompt, { ...options, maxNewTokens: options.maxNewTokens ?? config.eval.maxNewTokens });
  };
  return {
    ...session,
    dir,
    stream,
    async answer(image, prompt, options) {
      let text = '';
      for await (const event of stream(image, prompt, options)) if (event.type === 'end') text = event.text ?? text;
      return text;
    },
    evaluate: () => evaluateSession(session),
    dispose: () => model.dispose(),
  };
}
