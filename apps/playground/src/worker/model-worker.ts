/// <reference lib="webworker" />
import * as ortWeb from 'onnxruntime-web';
import { OnnxMultimodalModel } from '@mllm/onnx/runtime';
import { loadTokenizer, type ChatTurn, type TextTokenizer } from '@mllm/tokenizer';
import { StreamedAnswer, promptIds } from '@mllm/run/browser';
import { softmax } from '@mllm/llm/decoding';
import { mount, readBytes, sizeOf } from '../host/virtual-files';
import { useExecutionProviders } from '../host/module';
import { visualTokens } from './visual-tokens';
import type { Decoding, GenerationResult, ModelInfo, Reply, Request } from './protocol';

/**
 * The model off the page's thread: the same @mllm/onnx runtime, @mllm/tokenizer and
 * `@mllm/run/browser` as `mllm chat --runtime onnx`, on onnxruntime-web. One generation at a time;
 * a stop request ends it between two decoder steps.
 */

declare const self: DedicatedWorkerGlobalScope;
const post = (reply: Reply) => self.postMessage(reply);

let loaded: { model: OnnxMultimodalModel; tokenizer: TextTokenizer; dir: string } | undefined;
let embeddings: Float32Array | undefined;
/** The generation running now, and whether the page asked it to stop. */
let generating: { id: number; stop: boolean } | undefined;
let mounts = 0;

self.onmessage = (event: MessageEvent<Request>) => {
  const request = event.data;
  if (request.type === 'stop') {
    if (generating?.id === request.id) generating.stop = true;
  }
  else if (request.type === 'load') void load(request);
  else if (request.type === 'visual') void run(request.id, async () => post({ type: 'visual', id: request.id, tokens: await visual(request.pixels) }));
  else void run(request.id, () => generate(request.id, request.turns, request.pixels, request.decoding));
};

async function run(id: number, work: () => Promise<void>): Promise<void> {
  try {
    if (!loaded) throw new Error('no model is loaded yet');
    await work();
  } catch (e) {
    post({ type: 'error', id, message: (e as Error).message });
  }
}

async function configureOrt(ortBase: string, wasmOnly: boolean): Promise<string> {
  ortWeb.env.wasm.wasmPaths = ortBase;
  // threads need a cross-origin isolated page (SharedArrayBuffer); scripts/serve.mjs sends the headers
  ortWeb.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  const adapter = wasmOnly ? null : await gpu?.requestAdapter().catch(() => null);
  useExecutionProviders(adapter ? ['webgpu', 'wasm'] : ['wasm']);
  return adapter ? 'webgpu' : 'wasm';
}

async function load({ source, maxBytes, ortBase, wasmOnly }: Request & { type: 'load' }): Promise<void> {
  try {
    const executionProvider = await configureOrt(ortBase, wasmOnly);
    const dir = `/${source.label.replace(/[^\w.-]+/g, '_') || 'model'}-${++mounts}`;
    mount(dir, source.kind === 'url' ? { kind: 'url', base: source.base } : { kind: 'files', files: new Map(source.files) });
    const totalBytes = await checkSize(dir, source.label, maxBytes);
    const label = (message: string) => message.replaceAll(dir, source.label);
    let model: OnnxMultimodalModel;
    try {
      model = await OnnxMultimodalModel.load(dir, { logger: { warn: () => {} } });
    } catch (e) {
      throw new Error(label((e as Error).message));
    }
    // the kind the export saved: the word tokenizer or the byte-level BPE
    const tokenizer = await loadTokenizer(dir).catch(async (e: Error) => {
      await model.release();
      throw new Error(`${source.label} has no tokenizer (tokenizer.json, tokenizer_config.json): ${label(e.message)}`);
    });
    if (loaded) await loaded.model.release();
    loaded = { model, tokenizer, dir };
    embeddings = undefined;
    const m = model.manifest;
    const info: ModelInfo = {
      label: source.label,
      imageSize: m.image.size,
      tokensPerImage: m.image.tokensPerImage,
      vocabSize: m.llm.vocabSize,
      connector: String((m.components.connector as { type?: string } | undefined)?.type ?? m.fusion?.type ?? 'unknown'),
      weights: m.weights,
      totalBytes,
      executionProvider,
      threads: ortWeb.env.wasm.numThreads ?? 1,
    };
    post({ type: 'loaded', info });
  } catch (e) {
    post({ type: 'load-error', message: (e as Error).message });
  }
}

/** Refuses a model whose files exceed what a browser tab holds, before onnxruntime allocates anything. */
async function checkSize(dir: string, label: string, maxBytes: number): Promise<number> {
  let files: string[];
  try {
    files = Object.values((JSON.parse(new TextDecoder().decode(await readBytes(`${dir}/mllm.json`))) as { files: Record<string, string> }).files);
  } catch {
    return 0; // the runtime's load says what is wrong with mllm.json
  }
  const sizes = await Promise.all(files.map((f) => sizeOf(`${dir}/${f}`).catch(() => 0)));
  const total = sizes.reduce((a: number, b) => a + (b ?? 0), 0);
  if (total > maxBytes)
    throw new Error(
      `${label} is too big for the browser: its ONNX files hold ${mib(total)} and a page's WebAssembly memory holds about ${mib(maxBytes)}. ` +
        'Export it with smaller weights (`mllm export --weights int8`), or run it with `mllm chat --runtime onnx`.',
    );
  return total;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function visual(pixels: Float32Array) {
  const { model, tokenizer } = loaded!;
  const v = model.vocabSize;
  embeddings ??= (await model.embed([Array.from({ length: v }, (_, i) => i)])).data as Float32Array;
  const features = (await model.encodeImages([pixels])).data as Float32Array;
  return visualTokens(features, embeddings, model.manifest.llm.dim, (id) => tokenizer.decode([id]));
}

async function generate(id: number, turns: ChatTurn[], pixels: Float32Array, decoding: Decoding): Promise<void> {
  const { model, tokenizer } = loaded!;
  const ids = promptIds(tokenizer, turns);
  const stopTokens = [tokenizer.special.end, tokenizer.special.eos];
  const start = performance.now();
  let first: number | undefined;
  let last = start;
  const answer = new StreamedAnswer((answerIds) => tokenizer.decode(answerIds));
  let stopped = false;
  generating = { id, stop: false };
  for await (const tokenId of model.stream({ ids, images: [pixels] }, { ...decoding, stopTokens })) {
    last = performance.now();
    first ??= last;
    const text = answer.push(tokenId);
    if (text) post({ type: 'token', id, tokenId, text });
    if (generating.stop) {
      stopped = true;
      break;
    }
  }
  generating = undefined;
  const rest = answer.finish();
  if (rest) post({ type: 'token', id, tokenId: answer.ids.at(-1)!, text: rest });
  const out = answer.ids;
  const result: GenerationResult = {
    ids: out,
    text: answer.text,
    pieces: answer.pieces,
    probabilities: answer.pieceProbabilities(await answerProbabilities(ids, out, pixels)),
    stopped,
    timeToFirstTokenMs: (first ?? last) - start,
    tokensPerSecond: out.length > 1 ? (out.length - 1) / ((last - first!) / 1000) : 0,
  };
  post({ type: 'done', id, result });
}

/** One pass over prompt + answer (no cache): each answer token's probability where it was picked. */
async function answerProbabilities(prompt: number[], answer: number[], pixels: Float32Array): Promise<number[]> {
  if (answer.length === 0) return [];
  const { model } = loaded!;
  const logits = await model.promptLogits([{ ids: [...prompt, ...answer], images: [pixels] }]);
  const [, t, v] = logits.dims as [number, number, number];
  const data = logits.data as Float32Array;
  return answer.map((tokenId, k) => {
    const at = t - answer.length - 1 + k; // the position whose logits picked answer[k]
    return softmax(Float64Array.from(data.subarray(at * v, (at + 1) * v)))[tokenId]!;
  });
}
