#!/usr/bin/env node
/**
 * Time to first token and tokens/s of one exported model on onnxruntime-node (what `mllm chat
 * --runtime onnx` runs) and in headless Chromium on onnxruntime-web (the playground's worker,
 * wasm), for the same greedy answer about the same Shapes scene.
 *
 *   npm run bench -w apps/playground -- [--model DIR] [--seed N] [--prompt TEXT] [--repeats N]
 *
 * Definitions, the same on both sides: time to first token runs from the request (prompt ids
 * built) to the first picked token: image encoding, prefill and one pick. Tokens/s counts the
 * tokens after the first over the time after the first. One warm-up answer is not counted; the
 * median of the repeats is printed. Default model: what `npm run playground` serves.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { OnnxMultimodalModel, ortEngine } from '@mllm/onnx/runtime';
import { WordTokenizer } from '@mllm/tokenizer';
import { drawShapesScene, promptIds } from '@mllm/run/browser';
import { CHROMIUM_ARGS, chromiumPath } from './chromium.mjs';
import { startServer } from './serve.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const flag = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const defaultModel = ['default-onnx', 'tiny-onnx'].map((d) => join(root, 'runs', 'playground', d)).find((d) => existsSync(join(d, 'mllm.json')));
const model = flag('--model', defaultModel);
if (!model) throw new Error('no model: pass --model DIR (an `mllm export` folder), or run `npm run playground` once to export one');
const seed = Number(flag('--seed', '3'));
const prompt = flag('--prompt', 'describe the image .');
const repeats = Number(flag('--repeats', '5'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The scene's pixels rounded to bytes, as the PNG the CLI reads and the page holds. */
function scenePixels(size) {
  const { pixels } = drawShapesScene({ seed, size });
  return Float32Array.from(pixels, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255) / 255);
}

async function nodeTimings() {
  const onnx = await OnnxMultimodalModel.load(model);
  const tokenizer = await WordTokenizer.load(model);
  const pixels = scenePixels(onnx.manifest.image.size);
  const runs = [];
  for (let r = 0; r <= repeats; r++) {
    const start = performance.now();
    const ids = promptIds(tokenizer, prompt);
    let first;
    let last = start;
    let count = 0;
    for await (const _ of onnx.stream({ ids, images: [pixels] }, { maxNewTokens: 40, seed: 0, stopTokens: [tokenizer.special.end, tokenizer.special.eos] })) {
      last = performance.now();
      first ??= last;
      count++;
    }
    if (r > 0) runs.push({ ttft: first - start, tps: count > 1 ? (count - 1) / ((last - first) / 1000) : 0, count });
  }
  await onnx.release();
  return { engine: ortEngine().package, runs };
}

async function browserTimings() {
  const server = await startServer({ model, port: 0 });
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}?ep=wasm`);
    await page.locator('#model-status[data-state="ready"]').waitFor({ timeout: 120_000 });
    const status = await page.locator('#model-status').textContent();
    await page.fill('#scene-seed', String(seed));
    await page.click('#scene-generate');
    const runs = [];
    for (let r = 0; r <= repeats; r++) {
      await page.click('#new-chat');
      await page.fill('#prompt', prompt);
      await page.click('#send');
      const answer = page.locator('.message.gpt[data-state="done"]');
      await answer.waitFor({ timeout: 120_000 });
      const count = JSON.parse(await answer.getAttribute('data-ids')).length;
      if (r > 0) runs.push({ ttft: Number(await answer.getAttribute('data-ttft-ms')), tps: Number(await answer.getAttribute('data-tokens-per-second')), count });
    }
    return { engine: `onnxruntime-web (${status.split(' on ').pop()})`, runs, chromium: browser.version() };
  } finally {
    await browser.close();
    await server.close();
  }
}

const manifest = JSON.parse(readFileSync(join(model, 'mllm.json'), 'utf8'));
console.log(`model ${model} (${manifest.weights}, ${manifest.llm.layers} layers, width ${manifest.llm.dim}), scene seed ${seed}, prompt "${prompt}", ${repeats} repeats after one warm-up`);
const results = [await nodeTimings(), await browserTimings()];
console.log('\n| runtime | tokens | time to first token (ms) | tokens/s |\n|---|---:|---:|---:|');
for (const { engine, runs } of results) console.log(`| ${engine} | ${runs[0].count} | ${median(runs.map((r) => r.ttft)).toFixed(1)} | ${median(runs.map((r) => r.tps)).toFixed(0)} |`);
if (results[1].chromium) console.log(`\nChromium ${results[1].chromium}, headless`);
