#!/usr/bin/env node
/**
 * The README's screenshots of the playground, taken in headless Chromium with the model
 * `npm run playground` serves: a conversation about a Shapes scene, a bad input's message, and
 * a finished run's report.
 *
 *   node scripts/screenshots.mjs [--model DIR] [--run DIR] [--out DIR]   (default out: docs/images)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from './chromium.mjs';
import { startServer } from './serve.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const flag = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const model = flag('--model', join(root, 'runs', 'playground', 'default-onnx'));
const run = flag('--run', join(root, 'runs', 'default'));
const out = flag('--out', join(root, 'docs', 'images'));
mkdirSync(out, { recursive: true });

const server = await startServer({ model, port: 0 });
const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(server.url);
  await page.locator('#model-status[data-state="ready"]').waitFor({ timeout: 120_000 });
  await page.fill('#scene-seed', flag('--seed', '7'));
  await page.click('#scene-generate');
  await page.locator('#token-grid div').first().waitFor();
  for (const question of ['describe the image in detail .', 'is there a red circle ?']) {
    const done = await page.locator('.message.gpt[data-state="done"]').count();
    await page.fill('#prompt', question);
    await page.click('#send');
    await page.locator('.message.gpt[data-state="done"]').nth(done).waitFor({ timeout: 120_000 });
  }
  await page.screenshot({ path: join(out, 'playground-chat.png') });

  const bad = join(tmpdir(), 'holiday-photo.png');
  writeFileSync(bad, 'not a PNG');
  await page.setInputFiles('#image-file', bad);
  await page.locator('#error:not([hidden])').waitFor();
  await page.screenshot({ path: join(out, 'playground-error.png'), clip: { x: 0, y: 0, width: 1280, height: 420 } });

  await page.setInputFiles('#run-folder', run);
  await page.locator('#run-view .curve').first().waitFor({ timeout: 60_000 });
  await page.locator('#run-view').screenshot({ path: join(out, 'playground-run.png') });
  console.log(`screenshots: ${['playground-chat.png', 'playground-error.png', 'playground-run.png'].map((f) => join(out, f)).join(', ')}`);
} finally {
  await browser.close();
  await server.close();
}
