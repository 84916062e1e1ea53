import type { ChatDecoding } from '@mllm/run';
import type { ChatTurn } from '@mllm/tokenizer';

/** Messages between the page and the model worker (./model-worker.ts). */

/** Where an export folder's files come from: the serving origin, or a folder the user picked. */
export type ModelSource = { kind: 'url'; base: string; label: string } | { kind: 'files'; files: [string, File][]; label: string };

/** `mllm chat`'s decoding options, minus stop strings (a type only: nothing of @mllm/run's Node entry reaches the page). */
export type Decoding = Omit<ChatDecoding, 'stopStrings'>;

export interface ModelInfo {
  label: string;
  imageSize: number;
  tokensPerImage: number;
  vocabSize: number;
  connector: string;
  weights: string;
  totalBytes: number;
  executionProvider: string;
  threads: number;
}

export type Request =
  | {
      type: 'load';
      source: ModelSource;
      maxBytes: number;
      /** Where onnxruntime-web's wasm files are served (the page's ort/). */
      ortBase: string;
      /** Never WebGPU, even where the browser offers it (the page's ?ep=wasm). */
      wasmOnly: boolean;
    }
  | { type: 'visual'; id: number; pixels: Float32Array }
  | { type: 'generate'; id: number; turns: ChatTurn[]; pixels: Float32Array; decoding: Decoding }
  | { type: 'stop'; id: number };

/** Visual tokens of one image: each token's L2 norm and the vocabulary words nearest to it. */
export interface VisualTokens {
  norms: number[];
  nearest: { word: string; cosine: number }[][];
}

export interface GenerationResult {
  ids: number[];
  /** The answer as the tokenizer decodes it (what `mllm chat` prints and keeps as the turn). */
  text: string;
  /** The text as it streamed in (`StreamedAnswer` of @mllm/run/browser); they join to `text`. */
  pieces: string[];
  /** Each piece's probability: the product of its tokens' (softmax of the logits, before temperature, top-k or top-p). */
  probabilities: number[];
  stopped: boolean;
  /** From the request to the first token, and decoding speed after it. */
  timeToFirstTokenMs: number;
  tokensPerSecond: number;
}

export type Reply =
  | { type: 'loaded'; info: ModelInfo }
  | { type: 'load-error'; message: string }
  | { type: 'visual'; id: number; tokens: VisualTokens }
  | { type: 'token'; id: number; tokenId: number; text: string }
  | { type: 'done'; id: number; result: GenerationResult }
  | { type: 'error'; id: number; message: string };
