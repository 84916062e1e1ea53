import { initBackend } from '@mllm/core';
import { openOnnxChat, openPostCorrector, openRun, type AnswerOptions, type ChatDecoding, type Conversation, type FewShotDemonstration } from '@mllm/run';
import { consoleLogger } from './output';
import { correctionText } from './correction-output';

/** A model loaded once for `mllm chat`, whichever runtime runs it. */
export interface ChatModel {
  /** An image file as the model's pixels (the training data's checks: a bad file is an ImageFileError). */
  loadImage(file: string): Promise<Float32Array>;
  /** Words of `text` the vocabulary lacks. */
  unknownWords(text: string): string[];
  /** Answers `conversation` about `image`, writing the text as it is made and a newline at the end; returns the answer. */
  reply(image: Float32Array, conversation: Conversation, write: (text: string) => void): Promise<string>;
  /** Solved examples (pixels from loadImage) shown before every question from now on, in order (a few-shot prompt). */
  demonstrate(demonstrations: readonly FewShotDemonstration<Float32Array>[]): void;
  close(): Promise<void>;
}

/**
 * A finished run folder, on tfjs. With `correct`, every answer is followed by its Woodpecker
 * post-correction (the run's region detector as expert), and the conversation goes on from the
 * corrected answer.
 */
export async function tfjsChatModel(checkpoint: string, options: AnswerOptions, backend?: string, correct = false): Promise<ChatModel> {
  await initBackend({ backend, logger: consoleLogger });
  const opened = await openRun(checkpoint);
  const corrector = correct ? await openPostCorrector(opened, consoleLogger).catch((e: unknown) => (opened.dispose(), Promise.reject(e))) : undefined;
  let demonstrations: readonly FewShotDemonstration<Float32Array>[] = [];
  return {
    loadImage: (file) => opened.loadImage(file),
    unknownWords: (text) => opened.unknownWords(text),
    async reply(image, conversation, write) {
      let answer = '';
      for await (const event of opened.stream(image, conversation, { ...options, demonstrations })) {
        // the end event carries the text held back until the end (a stop string's possible start)
        if (event.text) write(event.text);
        answer += event.text ?? '';
      }
      write('\n');
      if (!corrector) return answer;
      const corrected = await corrector.correct(image, answer);
      write(correctionText(corrected));
      return corrected.corrected;
    },
    demonstrate: (shown) => void (demonstrations = shown),
    close: async () => {
      corrector?.dispose();
      opened.dispose();
    },
  };
}

/** An `mllm export` folder, on onnxruntime. */
export async function onnxChatModel(model: string, decoding: ChatDecoding, threads?: number): Promise<ChatModel> {
  const chat = await openOnnxChat({ model, threads, logger: consoleLogger });
  let demonstrations: readonly FewShotDemonstration<Float32Array>[] = [];
  return {
    loadImage: (file) => chat.loadImage(file),
    unknownWords: (text) => chat.unknownWords(text),
    reply: (image, conversation, write) => chat.reply(image, conversation, decoding, write, demonstrations),
    demonstrate: (shown) => void (demonstrations = shown),
    close: () => chat.release(),
  };
}
