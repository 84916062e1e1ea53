import type { Logger } from '@mllm/core';
import type { OnnxMultimodalModel } from '@mllm/onnx';
import type { TextTokenizer } from '@mllm/tokenizer';
import { type Conversation } from './answerer';
import { fewShotImages, fewShotPromptIds, type FewShotDemonstration } from './few-shot';
import { loadOnnx, loadOnnxTokenizer } from './export';
import { loadImageInput } from './image-input';
import { StreamedAnswer } from './streamed-answer';

/** The decoding flags of `mllm chat` (generationOptionsFromFlags). */
export interface ChatDecoding {
  maxNewTokens: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  seed?: number;
  stopStrings?: string[];
}

/** An exported ONNX folder opened for chat: loaded once, answering any number of turns. */
export interface OnnxChat {
  /** Side of the square images are read at (the exported encoder's input). */
  imageSize: number;
  /** An image file or bytes as the model's pixels, with the training data's checks (loadImageInput). */
  loadImage(image: string | Uint8Array): Promise<Float32Array>;
  /** The words of `text` the exported vocabulary lacks (read as <unk>). */
  unknownWords(text: string): string[];
  /**
   * Answers the conversation about `image` (pixels from loadImage), writing the text to `write`
   * as it is decoded, then a newline. With stop strings the text is written once the answer is
   * cut, so no stop string half-prints. Demonstrations (pixels from loadImage) come first. Returns the answer.
   */
  reply(image: Float32Array, conversation: Conversation, decoding: ChatDecoding, write: (text: string) => void, demonstrations?: readonly FewShotDemonstration<Float32Array>[]): Promise<string>;
  /** Frees the onnxruntime sessions. */
  release(): Promise<void>;
}

/** Opens `mllm export`'s folder `model` for chat (`mllm chat --runtime onnx`). */
export async function openOnnxChat(options: { model: string; threads?: number; logger?: Logger }): Promise<OnnxChat> {
  const model = await loadOnnx(options.model, options.threads, options.logger);
  let tokenizer: TextTokenizer;
  try {
    tokenizer = await loadOnnxTokenizer(model, options.model);
  } catch (e) {
    await model.release();
    throw e;
  }
  const size = model.manifest.image.size;
  return {
    imageSize: size,
    loadImage: (image) => loadImageInput(image, { size }),
    unknownWords: (text) => tokenizer.unknownWords(text),
    reply: (image, conversation, decoding, write, demonstrations = []) => reply(model, tokenizer, image, conversation, decoding, write, demonstrations),
    release: () => model.release(),
  };
}

async function reply(
  model: OnnxMultimodalModel,
  tokenizer: TextTokenizer,
  image: Float32Array,
  conversation: Conversation,
  decoding: ChatDecoding,
  write: (text: string) => void,
  demonstrations: readonly FewShotDemonstration<Float32Array>[],
): Promise<string> {
  const ids = fewShotPromptIds(tokenizer, demonstrations, conversation);
  const { stopStrings = [], ...sampling } = decoding;
  const stream = stopStrings.length === 0;
  // the answer decoded whole after each token: a word tokenizer joins words with spaces, a byte-level one spells bytes
  const answer = new StreamedAnswer((answerIds) => tokenizer.decode(answerIds));
  for await (const id of model.stream({ ids, images: fewShotImages(demonstrations, image) }, { ...sampling, stopTokens: [tokenizer.special.end, tokenizer.special.eos] })) {
    const piece = answer.push(id);
    if (stream && piece) write(piece);
    if (stopStrings.some((s) => answer.decoded.includes(s))) break;
  }
  const rest = answer.finish();
  if (stream && rest) write(rest);
  let text = answer.decoded;
  for (const s of stopStrings) if (text.includes(s)) text = text.slice(0, text.indexOf(s)).trimEnd();
  write(stream ? '\n' : `${text}\n`);
  return text;
}
