import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, ConfigError, loadSafetensors, zodIssues } from '@mllm/core';
import type { EvalReport } from '@mllm/eval';
import type { GenerationEvent } from '@mllm/llm';
import { mitigationSchema, type MitigationOptions, type MultimodalGenerateOptions } from '@mllm/model';
import { loadTokenizer } from '@mllm/tokenizer';
import { parseRunConfig, type RunConfig } from '@mllm/training';
import { evalSamplingSchema } from '@mllm/training/internal';
import type { z } from 'zod';
import { streamAnswer, type Conversation } from './answerer';
import { checkDemonstrations, type FewShotDemonstration } from './few-shot';
import { loadImageInput } from './image-input';
import { evaluateSession, type EvaluateProgress } from './run';
import { registryFor } from './plugins';
import type { MllmRegistry } from './registry';
import { createSession, type Session } from './session';
import { checkSizeLimits } from './size-limits';
import { checkWeightsFitConfig } from './weights-check';
import { chatTemplateConfigError } from './chat-template-error';

/**
 * An image to ask about: a file path or encoded bytes (PNG, JPEG, ...), read with the checks
 * training data gets (loadImageInput), or HWC RGB pixels in [0, 1] at the encoder's size.
 */
export type ImageSource = string | Uint8Array | Float32Array;

/**
 * Decoding options of `answer` (greedy by default; `temperature` > 0 samples with `seed`;
 * `contrastive` / `imageAttention` for VCD / PAI); maxNewTokens defaults to the run's eval.maxNewTokens.
 * `demonstrations`: solved examples shown before the question, each with its own image, in order (a few-shot prompt).
 */
export type AnswerOptions = Partial<Omit<MultimodalGenerateOptions, 'decode' | 'stopTokens'>> & { demonstrations?: readonly FewShotDemonstration<ImageSource>[] };

/** A finished run, reopened: its parts, plus answering and evaluation with the run's own chat template. */
export interface OpenedRun extends Session {
  /** The run folder. */
  dir: string;
  /**
   * One answer about `image`, in the chat template the run trained with; greedy unless `options`
   * sample. `prompt` is one question, or the conversation so far (earlier human and gpt turns,
   * ending with the human turn to answer; the image goes in the first human turn).
   */
  answer(image: ImageSource, prompt: Conversation, options?: AnswerOptions): Promise<string>;
  /** `answer`, streamed: the text of each token as it is made, then an `end` event. */
  stream(image: ImageSource, prompt: Conversation, options?: AnswerOptions): AsyncGenerator<GenerationEvent, void, undefined>;
  /** An image file or bytes as the model's pixels, decoded once (e.g. for every turn of a conversation) with the training data's checks. */
  loadImage(image: string | Uint8Array): Promise<Float32Array>;
  /** The words of `text` the run's vocabulary lacks (read as <unk>); empty for a BPE or HF tokenizer, which encode every word. */
  unknownWords(text: string): string[];
  /**
   * The run's evaluation (POPE, CHAIR, closed-set, ...) on its test scenes, as `report.json` has
   * it; `decoding` replaces the config's `eval.decoding` (in-process mitigation: VCD, PAI), and
   * `sampling` its `eval.sampling` (sampled instead of greedy answers; `{ temperature: 1 }`).
   */
  evaluate(options?: { onProgress?: EvaluateProgress; decoding?: MitigationOptions; sampling?: z.input<typeof evalSamplingSchema> }): Promise<EvalReport>;
  /** Frees the model's tensors. */
  dispose(): void;
}

/** The pixels an ImageSource stands for, at the encoder's size. */
async function pixelsOf(image: ImageSource, size: number): Promise<Float32Array> {
  return image instanceof Float32Array ? image : loadImageInput(image, { size });
}

/**
 * The config a run folder keeps, validated with the plugins it names and held to the size
 * limits as a run's is (a config edited after the run is checked whole): what the run trained,
 * for anything that rebuilds its model or its world.
 */
export async function readRunConfig(dir: string): Promise<{ config: RunConfig; registry: MllmRegistry }> {
  const configPath = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' || code === 'ENOTDIR' ? `not found${code === 'ENOTDIR' ? ` (${dir} is not a folder)` : ''}` : `cannot be read (${code ?? (e as Error).message})`;
    throw new CheckpointError(configPath, `${why}; pass the folder of a finished \`mllm run\``);
  }
  let stored: unknown;
  try {
    stored = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(configPath, `is not valid JSON (${(e as Error).message})`);
  }
  const { registry, raw } = await registryFor(stored, dir);
  const config = parseRunConfig(raw, registry);
  checkSizeLimits(config, registry);
  return { config, registry };
}

/**
 * Reopens a finished run folder: its config (with the plugins it names), tokenizer and trained
 * weights, ready to answer.
 */
export async function openRun(dir: string): Promise<OpenedRun> {
  const { config, registry } = await readRunConfig(dir);
  // the word vocabulary, or the HF tokenizer a run started from (its chat template rendered once, bounded)
  const tokenizer = await loadTokenizer(dir).catch((e: unknown) => {
    throw chatTemplateConfigError(e, 'chat_template');
  });
  const weights = join(dir, 'model.safetensors');
  // the weights' header against the config, with the run's real vocabulary, before a model of the config's size exists
  await checkWeightsFitConfig(weights, checkSizeLimits(config, registry, { vocabSize: tokenizer.vocabSize }));
  const session = createSession(config, registry, tokenizer);
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
  const stream = async function* (image: ImageSource, prompt: Conversation, options: AnswerOptions = {}) {
    const { demonstrations = [], ...decoding } = options;
    checkDemonstrations(demonstrations, { images: true });
    const shown = await Promise.all(demonstrations.map(async (d) => ({ ...d, image: await pixelsOf(d.image, size) })));
    yield* streamAnswer(model, tokenizer, await pixelsOf(image, size), prompt, { ...decoding, maxNewTokens: decoding.maxNewTokens ?? config.eval.maxNewTokens }, shown);
  };
  return {
    ...session,
    dir,
    stream,
    async answer(image, prompt, options) {
      // the tokens' texts, then the end event's rest (text held back for a stop string that did not come)
      let text = '';
      for await (const event of stream(image, prompt, options)) text += event.text ?? '';
      return text;
    },
    loadImage: (image) => loadImageInput(image, { size }),
    unknownWords: (text) => tokenizer.unknownWords(text),
    evaluate: (options) => {
      const decoding = options?.decoding && checkedOptions(mitigationSchema, options.decoding, 'Invalid mitigation options');
      const sampling = options?.sampling && checkedOptions(evalSamplingSchema, options.sampling, 'Invalid sampling options');
      const evalConfig = { ...session.config.eval, ...(decoding && { decoding }), ...(sampling && { sampling }) };
      return evaluateSession({ ...session, config: { ...session.config, eval: evalConfig } }, options?.onProgress);
    },
    dispose: () => model.dispose(),
  };
}

/** `evaluate`'s mitigation or sampling options with their defaults, or a ConfigError naming what is wrong. */
function checkedOptions<S extends z.ZodType>(schema: S, options: unknown, title: string): z.output<S> {
  const parsed = schema.safeParse(options);
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error), title);
  return parsed.data;
}
