#!/usr/bin/env node
// Logits of a run (this project's tfjs forward) against tools/reference/llava_forward.py
// (PyTorch, from transformers' modeling code) on the run's `mllm export --format hf` folder:
// one prompt with one image, the run's own chat tokens around it. Prints the max abs difference.
// node tools/reference/export-parity.mjs <run dir> <hf export dir> [python]   (after npm run build;
// python defaults to /usr/bin/python3, Debian's, which has python3-torch)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, silentLogger } from '@mllm/core';
import { openRun } from '@mllm/run';

const [runDir, hfDir, python = '/usr/bin/python3'] = process.argv.slice(2);
if (!runDir || !hfDir) {
  console.error('usage: node tools/reference/export-parity.mjs <run dir> <hf export dir> [python]');
  process.exit(2);
}
await initBackend({ logger: silentLogger });
const run = await openRun(runDir);
const { model, tokenizer } = run;
const sp = tokenizer.special;
const M = model.tokensPerImage;
// the first ordinary words of the vocabulary (past the 8 specials), whatever the tokenizer
const words = Array.from({ length: 8 }, (_, i) => (8 + i) % model.llm.vocabSize).filter((id) => id !== sp.image);
const roles = (...ids) => ids.filter((id) => id !== sp.image); // an HF tokenizer may map roles to the image id
const ids = [sp.bos, ...roles(sp.user), ...new Array(M).fill(sp.image), ...words, ...roles(sp.end, sp.assistant), ...words.slice(0, 3)];
const start = ids.indexOf(sp.image);
const size = model.encoder.imageSize;
const pixels = Float32Array.from({ length: size * size * 3 }, (_, i) => (Math.sin(i * 0.37) + 1) / 2);

const logits = model.forward({ inputIds: [ids], images: [pixels], slots: [{ row: 0, start }], attentionMask: [ids.map(() => 1)] });
const ours = logits.arraySync()[0];
logits.dispose();

// pixel_values as LlavaProcessor hands them over: CHW, (x - mean) / std
const { pixelMean, pixelStd } = model.encoder.config;
const pixelValues = [0, 1, 2].map((c) => Array.from({ length: size }, (_, y) => Array.from({ length: size }, (_, x) => (pixels[(y * size + x) * 3 + c] - pixelMean[c]) / pixelStd[c])));
const tmp = mkdtempSync(join(tmpdir(), 'export-parity-'));
writeFileSync(join(tmp, 'in.json'), JSON.stringify({ input_ids: [ids], pixel_values: [pixelValues] }));
const script = fileURLToPath(new URL('./llava_forward.py', import.meta.url));
const ref = spawnSync(python, [script, hfDir, join(tmp, 'in.json'), '--output', join(tmp, 'out.json')], { encoding: 'utf8' });
if (ref.status !== 0) {
  console.error(`llava_forward.py failed: ${ref.stderr}`);
  process.exit(1);
}
const theirs = JSON.parse(readFileSync(join(tmp, 'out.json'), 'utf8')).logits[0];
let maxDiff = 0;
let maxLogit = 0;
ours.forEach((row, t) => row.forEach((x, k) => {
  maxDiff = Math.max(maxDiff, Math.abs(x - theirs[t][k]));
  maxLogit = Math.max(maxLogit, Math.abs(x));
}));
const params = model.namedParameters().reduce((n, [, p]) => n + p.size, 0);
console.log(`${params} parameters, ${ids.length} tokens (${M} image), max |logit| ${maxLogit.toFixed(3)}: max abs difference ${maxDiff.toExponential(2)}`);
run.dispose();
