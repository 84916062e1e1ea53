import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { CHROMIUM_ARGS, chromiumPath } from '../scripts/chromium.mjs';
import { DIST, startServer } from '../scripts/serve.mjs';

/**
 * The playground in headless Chromium against `mllm chat --runtime onnx`: a tiny run is trained
 * and exported, the page loads that export as its default model, generates a Shapes scene, and
 * every streamed answer must be, token for token, what the CLI answers for the page's PNG with
 * the same prompt and options. PLAYGROUND_SCREENSHOTS=DIR keeps screenshots of the page.
 */

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const mllm = join(root, 'apps', 'cli', 'bin', 'mllm.js');
/** Where to keep the page's screenshots, if anywhere (the README's come from scripts/screenshots.mjs). */
const screenshots = process.env.PLAYGROUND_SCREENSHOTS;
const SEED = 3;

function cli(args: string[], input?: string): string {
  const result = spawnSync(process.execPath, [mllm, ...args], { cwd: root, encoding: 'utf8', input });
  if (result.status !== 0) throw new Error(`mllm ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  return result.stdout;
}

let work: string;
let browser: Browser;
let server: { url: string; close(): Promise<void> };
const requests: string[] = [];

beforeAll(async () => {
  const executablePath = chromiumPath(); // fails here, with the install command, when there is no browser
  if (!readFileSync(join(DIST, 'index.html'), 'utf8').includes('<script')) throw new Error('apps/playground/dist is not built: run `npx nx build @mllm/playground`');
  work = mkdtempSync(join(tmpdir(), 'mllm-playground-'));
  cli(['run', 'configs/tiny.json', '--out', join(work, 'run'), '--force']);
  cli(['export', '--checkpoint', join(work, 'run'), '--out', join(work, 'export')]);
  // a byte-level BPE with few merges, so answers are spelt in pieces of words (and, untrained, in bytes of characters)
  // head width 16: the export's decoder is on onnxruntime's contrib ops (GroupQueryAttention), which the page runs on onnxruntime-web
  cli(['run', 'configs/tiny.json', '--out', join(work, 'run-bpe'), '--force', '--set', 'tokenizer.type=bpe', '--set', 'tokenizer.vocabSize=280', '--set', 'llm.dim=32', '--set', 'llm.heads=2', '--seed', '1']);
  cli(['export', '--checkpoint', join(work, 'run-bpe'), '--out', join(work, 'export-bpe')]);
  server = await startServer({ model: join(work, 'export'), port: 0 });
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function openPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 860 } });
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(server.url);
  await page.locator('#model-status[data-state="ready"]').waitFor({ timeout: 120_000 });
  return page;
}

/** Asks the page and returns the answer's text, and every state of it the page showed while it streamed. */
async function ask(page: Page, prompt: string): Promise<{ text: string; seen: string[] }> {
  const index = await page.locator('.message.gpt').count();
  await page.evaluate((i) => {
    // record each state of the answer as it streams in
    const w = window as unknown as { streamed: string[] };
    w.streamed = [];
    new MutationObserver(() => {
      const el = document.querySelectorAll<HTMLElement>('.message.gpt')[i];
      if (el?.dataset.text !== undefined) w.streamed.push(el.dataset.text);
    }).observe(document.getElementById('messages')!, { subtree: true, attributes: true, childList: true });
  }, index);
  await page.fill('#prompt', prompt);
  await page.click('#send');
  const answer = page.locator('.message.gpt').nth(index);
  await page.waitForFunction((i) => ['done', 'stopped', 'error'].includes(document.querySelectorAll<HTMLElement>('.message.gpt')[i]?.dataset.state ?? ''), index, { timeout: 120_000 });
  expect(await answer.getAttribute('data-state')).toBe('done');
  const text = (await answer.getAttribute('data-text')) ?? '';
  // what a person reads is the text itself: no space added between pieces, none lost
  expect(await answer.locator('div').first().textContent()).toBe(text);
  const seen = await page.evaluate(() => (window as unknown as { streamed: string[] }).streamed);
  return { text, seen };
}

/** Generates the Shapes scene of SEED on the page and saves its PNG as page-scene.png. */
async function showScene(page: Page): Promise<void> {
  await page.fill('#scene-seed', String(SEED));
  await page.click('#scene-generate');
  await page.locator('#token-grid div').first().waitFor();
  const png = Buffer.from(await page.evaluate(async () => [...new Uint8Array(await (await fetch((document.getElementById('scene-download') as HTMLAnchorElement).href)).arrayBuffer())]));
  writeFileSync(join(work, 'page-scene.png'), png);
}

/** `mllm chat --runtime onnx --prompt` on the page's scene: the answer it prints before its newline. */
function cliAnswer(exportDir: string, prompt: string): string {
  return cli(['chat', '--runtime', 'onnx', '--model', exportDir, '--image', join(work, 'page-scene.png'), '--prompt', prompt]).replace(/\n$/, '');
}

/** The answer equals the CLI's, and it streamed: it grew piece by piece, every state a prefix of the final text. */
function expectStreamedAs(answer: { text: string; seen: string[] }, expected: string): void {
  expect(answer.text).toBe(expected);
  expect(answer.text.trim().length).toBeGreaterThan(0);
  if (answer.text.trim().includes(' ')) expect(answer.seen.some((s) => s.length > 0 && s.length < answer.text.length)).toBe(true);
  for (const s of answer.seen) expect(answer.text.startsWith(s)).toBe(true);
}

describe('the playground in headless Chromium', () => {
  it('answers about a generated Shapes scene token for token as mllm chat --runtime onnx', async () => {
    const page = await openPage();
    await showScene(page);

    // the page's scene is `mllm scene`'s: same ground truth, same pixels
    const size = JSON.parse(readFileSync(join(work, 'export', 'mllm.json'), 'utf8')).image.size as number;
    cli(['scene', '--seed', String(SEED), '--size', String(size), '--out', join(work, 'cli-scene.png')]);
    const truth = JSON.parse((await page.locator('#ground-truth').getAttribute('data-ground-truth'))!);
    expect(truth).toEqual(JSON.parse(readFileSync(join(work, 'cli-scene.json'), 'utf8')));
    const raw = async (file: string) => (await sharp(file).removeAlpha().raw().toBuffer()).toString('hex');
    expect(await raw(join(work, 'page-scene.png'))).toBe(await raw(join(work, 'cli-scene.png')));

    for (const prompt of ['describe the image .', 'how many objects are there ?']) {
      await page.click('#new-chat');
      expectStreamedAs(await ask(page, prompt), cliAnswer(join(work, 'export'), prompt));
    }
    // a conversation: the second answer continues the first turn's, as `mllm chat` without --prompt
    const questions = ['describe the image .', 'how many objects are there ?'];
    await page.click('#new-chat');
    const conversation: string[] = [];
    for (const q of questions) conversation.push((await ask(page, q)).text.trim());
    const session = cli(['chat', '--runtime', 'onnx', '--model', join(work, 'export'), '--image', join(work, 'page-scene.png')], `${questions.join('\n')}\n`);
    // after its greeting line, each answer follows the "> " prompt on a line of its own
    const answers = session.split('\n').slice(1, 1 + questions.length).map((line) => line.replace(/^> /, '').trim());
    expect(conversation).toEqual(answers);

    // per-token probabilities are shown for every piece
    const probabilities = await page.locator('.message.gpt').last().locator('.piece').evaluateAll((spans) => spans.map((s) => Number((s as HTMLElement).dataset.p)));
    for (const p of probabilities) expect(p).toBeGreaterThan(0);
    if (screenshots) await page.screenshot({ path: join(screenshots, 'e2e-chat.png'), fullPage: true });

    // nothing came from outside the server: no CDN, no remote model
    expect(requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
    await page.close();
  });

  it("shows a byte-level BPE model's answer as mllm chat prints it: pieces of words joined, bytes of a character held until it is whole (a contrib-op decoder)", async () => {
    expect(JSON.parse(readFileSync(join(work, 'export-bpe', 'mllm.json'), 'utf8')).llm.cache).toBe('prefix');
    const page = await openPage();
    await page.setInputFiles('#model-folder', join(work, 'export-bpe'));
    await page.locator('#model-status[data-state="ready"]', { hasText: 'export-bpe:' }).waitFor({ timeout: 120_000 });
    await showScene(page);
    for (const prompt of ['describe the image .', 'what colour is the zebra ?']) {
      await page.click('#new-chat');
      const answer = await ask(page, prompt);
      expectStreamedAs(answer, cliAnswer(join(work, 'export-bpe'), prompt));
      // a piece is shown once its character is whole: no state the page showed ends inside one
      for (const s of answer.seen.filter((state) => state !== answer.text)) expect(s.endsWith('\uFFFD')).toBe(false);
    }
    await page.close();
  });

  it('says what is wrong with an image that is not one, a folder that is not an export, and a model too big', async () => {
    const page = await openPage();
    const bad = join(work, 'not-an-image.png');
    writeFileSync(bad, 'this is text, not a PNG');
    await page.setInputFiles('#image-file', bad);
    await expect.poll(() => page.locator('#error').textContent(), { timeout: 60_000 }).toContain('not-an-image.png cannot be decoded as an image');

    const folder = join(work, 'not-an-export');
    mkdirSync(folder);
    writeFileSync(join(folder, 'notes.txt'), 'not a model');
    await page.setInputFiles('#model-folder', folder);
    await expect.poll(() => page.locator('#error').textContent(), { timeout: 60_000 }).toContain('not-an-export/mllm.json: not found; pass a folder written by `mllm export`');
    if (screenshots) await page.screenshot({ path: join(screenshots, 'e2e-errors.png') });
    await page.close();

    // a model over the page's memory limit (lowered here to 10 KiB) is refused before it is loaded
    const small = await browser.newPage();
    await small.goto(`${server.url}?maxModelMiB=0.01`);
    await expect.poll(() => small.locator('#error').textContent(), { timeout: 60_000 }).toMatch(/default model is too big for the browser: its ONNX files hold [\d.]+ MiB/);
    expect(await small.locator('#model-status').getAttribute('data-state')).toBe('error');
    await small.close();
  });
});
