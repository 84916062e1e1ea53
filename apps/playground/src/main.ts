import type { ChatTurn } from '@mllm/tokenizer';
import { checkAnswer, summarize } from './answer-check';
import { AnswerView, showQuestion } from './chat-view';
import { folderFromDrop, folderFromFileList, folderKind, type PickedFolder } from './folder-input';
import { clearVisualTokens, generateScene, showUserImage, showVisualTokens, type CurrentImage } from './image-panel';
import { pixelsOf, readImage } from './image-input';
import { ModelClient } from './model-client';
import { renderRun } from './run-view';
import type { Decoding, ModelInfo, ModelSource } from './worker/protocol';

/**
 * The page: a model (the served default, or a folder), an image (file, drop, paste or a Shapes
 * scene), a multi-turn chat about it, and a finished run's report. Every failure ends in the
 * #error banner with what was wrong and what to do; nothing blocks the page's thread.
 */

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
/** What a tab's WebAssembly memory holds with room to run (wasm32 tops out at 4 GiB; ORT needs working space). */
const MAX_MODEL_BYTES = Number(params.get('maxModelMiB') ?? 1536) * 2 ** 20;

const client = new ModelClient();
let image: CurrentImage | undefined;
let turns: ChatTurn[] = [];
let busy: { stop(): void } | undefined;

function showError(message: string | undefined): void {
  const banner = $('error');
  banner.textContent = message ?? '';
  banner.hidden = message === undefined;
}

function guard<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => void {
  return (...args) => {
    showError(undefined);
    action(...args).catch((e: Error) => showError(e.message));
  };
}

function setStatus(text: string, state: string): void {
  const status = $('model-status');
  status.textContent = text;
  status.dataset.state = state;
  $<HTMLButtonElement>('send').disabled = state !== 'ready' || busy !== undefined;
}

function describe(info: ModelInfo): string {
  const threads = info.executionProvider === 'wasm' ? `, ${info.threads} thread${info.threads === 1 ? '' : 's'}` : '';
  return `${info.label}: ${info.connector} connector, ${info.tokensPerImage} visual tokens, ${info.imageSize}px images, vocabulary ${info.vocabSize}, ${info.weights} (${(info.totalBytes / 2 ** 20).toFixed(1)} MiB) on ${info.executionProvider}${threads}`;
}

async function loadModel(source: ModelSource): Promise<void> {
  setStatus(`loading ${source.label}...`, 'loading');
  try {
    setStatus(describe(await client.load(source, MAX_MODEL_BYTES)), 'ready');
  } catch (e) {
    // the worker keeps the model it had when another one fails to load
    if (client.info) setStatus(`${describe(client.info)} (${source.label} did not load)`, 'ready');
    else setStatus(`no model (${source.label} did not load)`, 'error');
    throw e;
  }
  newChat();
  // the image again at the new model's size
  const size = client.info!.imageSize;
  if (image?.scene) await setImage(await generateScene(image.scene.groundTruth.seed, undefined, size));
  else if (image?.bitmap) await setImage({ ...image, pixels: pixelsOf(image.bitmap, size) });
}

async function loadDefaultModel(): Promise<void> {
  const base = new URL('model/', location.href).href;
  const served = await fetch(`${base}mllm.json`, { method: 'HEAD' }).then((r) => r.ok, () => false);
  if (!served) {
    setStatus('no default model is served: open an export folder (`mllm export --out DIR`)', 'none');
    return;
  }
  await loadModel({ kind: 'url', base, label: 'default model' });
}

async function openFolder(folder: PickedFolder): Promise<void> {
  if (folderKind(folder) === 'run') return renderRun(folder, $('run-view'));
  // anything else is tried as an export: the runtime's own message says what is missing
  await loadModel({ kind: 'files', files: [...folder.files], label: folder.name });
}

async function setImage(next: CurrentImage): Promise<void> {
  image = next;
  newChat();
  await updateVisualTokens();
}

async function updateVisualTokens(): Promise<void> {
  clearVisualTokens();
  if (!image || !client.info) return;
  showVisualTokens(await client.visual(image.pixels), !['qformer', 'perceiver'].includes(client.info.connector));
}

async function openImage(blob: Blob, name: string): Promise<void> {
  const size = client.info?.imageSize ?? 32;
  await setImage(showUserImage(await readImage(blob, name, size), name, size));
}

function newChat(): void {
  busy?.stop();
  turns = [];
  $('messages').replaceChildren();
}

function decoding(): Decoding {
  const number = (id: string) => Number($<HTMLInputElement>(id).value);
  const temperature = number('temperature');
  const topK = number('top-k');
  const topP = number('top-p');
  const repetitionPenalty = number('repetition-penalty');
  // the defaults of `mllm chat`: greedy, no top-k / top-p / penalty, 40 tokens, seed 0
  return {
    maxNewTokens: number('max-tokens'),
    seed: number('seed'),
    ...(temperature > 0 && { temperature }),
    ...(topK > 0 && { topK }),
    ...(topP < 1 && { topP }),
    ...(repetitionPenalty !== 1 && { repetitionPenalty }),
  };
}

async function ask(question: string): Promise<void> {
  if (!client.info) throw new Error('no model is loaded: open an export folder first');
  if (!image) throw new Error('there is no image to ask about: upload, drop or paste one, or generate a Shapes scene');
  const messages = $('messages');
  showQuestion(messages, question);
  const asked: ChatTurn[] = [...turns, { from: 'human', value: question }];
  const view = new AnswerView(messages);
  const about = image;
  const generation = client.generate(asked, about.pixels, decoding(), (piece) => view.addPiece(piece));
  busy = generation;
  $<HTMLButtonElement>('stop').disabled = false;
  $<HTMLButtonElement>('send').disabled = true;
  try {
    const result = await generation.result;
    const check = about.scene ? checkAnswer(result.text, about.scene.scene) : undefined;
    view.finish(result, check, check && summarize(check));
    turns = [...asked, { from: 'gpt', value: result.text }];
  } catch (e) {
    view.fail((e as Error).message);
    if (!client.info) setStatus('no model: its worker was restarted, open the model again', 'error');
    throw e;
  } finally {
    busy = undefined;
    $<HTMLButtonElement>('stop').disabled = true;
    $<HTMLButtonElement>('send').disabled = !client.info;
  }
}

$('ask').addEventListener(
  'submit',
  guard(async (event: Event) => {
    event.preventDefault();
    const prompt = $<HTMLInputElement>('prompt');
    if (prompt.value.trim()) await ask(prompt.value.trim());
  }),
);
$('stop').addEventListener('click', () => busy?.stop());
$('new-chat').addEventListener('click', () => newChat());
$('scene-generate').addEventListener(
  'click',
  guard(async () => {
    const objects = $<HTMLSelectElement>('scene-objects').value;
    await setImage(await generateScene(Number($<HTMLInputElement>('scene-seed').value), objects ? Number(objects) : undefined, client.info?.imageSize ?? 32));
  }),
);
$<HTMLInputElement>('image-file').addEventListener(
  'change',
  guard(async (event: Event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (file) await openImage(file, file.name);
  }),
);
$<HTMLInputElement>('model-folder').addEventListener(
  'change',
  guard(async (event: Event) => {
    const list = (event.target as HTMLInputElement).files;
    if (list?.length) await loadModel({ kind: 'files', files: [...folderFromFileList(list).files], label: folderFromFileList(list).name });
  }),
);
$<HTMLInputElement>('run-folder').addEventListener(
  'change',
  guard(async (event: Event) => {
    const list = (event.target as HTMLInputElement).files;
    if (list?.length) await renderRun(folderFromFileList(list), $('run-view'));
  }),
);
document.addEventListener('dragover', (event) => {
  event.preventDefault();
  document.body.classList.add('dragging');
});
document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
document.addEventListener(
  'drop',
  guard(async (event: DragEvent) => {
    event.preventDefault();
    document.body.classList.remove('dragging');
    const transfer = event.dataTransfer;
    if (!transfer) return;
    const folder = await folderFromDrop(transfer.items);
    if (folder) return openFolder(folder);
    const file = transfer.files[0];
    if (file) await openImage(file, file.name);
  }),
);
document.addEventListener(
  'paste',
  guard(async (event: ClipboardEvent) => {
    const file = [...(event.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
    if (file) await openImage(file, 'pasted image');
  }),
);

guard(loadDefaultModel)();
