#!/usr/bin/env node
// Measures @mllm/data's image preprocessing against PIL on real photographs, beside the sharp
// (libvips) resize it replaces, and times a large photo's way to 224 x 224. Prints markdown tables
// (docs/experiments/image-preprocessing.md). Python is needed only to write the references:
//
//   /usr/bin/python3 tools/pil-golden.py --photos /tmp/pil-photos \
//     && NX_DAEMON=false npx nx run @mllm/data:build && node tools/pil-compare.mjs /tmp/pil-photos
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { fileURLToPath } from 'node:url';
import { decodeRgbLikePil, pilResize, preprocessFromHf, preprocessImage, PIL_RESAMPLE_CODES } from '../packages/data/dist/index.js';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node tools/pil-compare.mjs DIR   (DIR written by /usr/bin/python3 tools/pil-golden.py --photos DIR)');
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const NAMES = Object.fromEntries(Object.entries(PIL_RESAMPLE_CODES).map(([name, code]) => [code, name]));
// what the previous code asked libvips for: the config reader's three filters, and chat's default lanczos3
const SHARP_KERNELS = { nearest: 'nearest', bilinear: 'linear', bicubic: 'cubic', lanczos: 'lanczos3' };

function diff(a, b) {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > max) max = d;
    sum += d;
  }
  return { max, mean: sum / a.length };
}

const fmt = ({ max, mean }) => `${mean.toFixed(3)} / ${max}`;

async function rawPng(path) {
  return new Uint8Array(await sharp(readFileSync(path), { ignoreIcc: true }).removeAlpha().raw().toBuffer());
}

// the committed fixtures (tools/pil-golden.py without --photos): what the tests assert, in numbers
const fixtures = fileURLToPath(new URL('../packages/data/src/__fixtures__/pil/', import.meta.url));
const golden = JSON.parse(readFileSync(join(fixtures, 'manifest.json'), 'utf8'));
console.log(`Fixtures (PIL ${golden.pillow}), mean / max absolute difference, 8-bit units\n`);
console.log('| resample | up 23x17 -> 61x45 | down 97x61 -> 29x19 | mixed 97x61 -> 40x70 |');
console.log('|---|---|---|---|');
for (const [code, name] of Object.entries(NAMES)) {
  const cells = [];
  for (const direction of ['up', 'down', 'mixed']) {
    const c = golden.resize.find((r) => r.direction === direction && r.resample === Number(code));
    const src = await rawPng(join(fixtures, c.source));
    const { width, height } = await sharp(join(fixtures, c.source)).metadata();
    cells.push(fmt(diff(pilResize({ data: src, width, height }, c.width, c.height, name).data, await rawPng(join(fixtures, c.expected)))));
  }
  console.log(`| ${code} ${name} | ${cells.join(' | ')} |`);
}
console.log('\n| decoded file (PIL mode) | decodeRgbLikePil vs convert("RGB") | sharp default decode vs convert("RGB") (before) |');
console.log('|---|---|---|');
for (const c of golden.decode) {
  const bytes = readFileSync(join(fixtures, c.source));
  const expected = await rawPng(join(fixtures, c.expected));
  const before = await sharp(bytes).removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer();
  console.log(`| ${c.source} (${c.mode}) | ${fmt(diff((await decodeRgbLikePil(bytes)).data, expected))} | ${fmt(diff(before, expected))} |`);
}
console.log('\n| processor | pixel_values shape (HWC) | max abs difference (float32) |');
console.log('|---|---|---|');
for (const c of golden.pipeline) {
  const expected = new Float32Array(new Uint8Array(readFileSync(join(fixtures, c.expected))).buffer);
  const ours = await preprocessImage(join(fixtures, c.source), preprocessFromHf(c.config, c.options));
  console.log(`| ${c.expected.replace(/^pipeline-|\.f32$/g, '')}: ${c.config.image_processor_type} resample ${c.config.resample} | ${c.shape.join('x')} | ${diff(ours, expected).max} |`);
}

const rows = [];
for (const c of manifest.cases) {
  const name = NAMES[c.resample];
  const bytes = readFileSync(join(dir, c.source));
  const expected = await rawPng(join(dir, c.expected));
  const ours = pilResize(await decodeRgbLikePil(bytes), c.width, c.height, name).data;
  let before = 'refused';
  if (SHARP_KERNELS[name]) {
    const old = await sharp(bytes).removeAlpha().toColourspace('srgb').resize(c.width, c.height, { fit: 'fill', kernel: SHARP_KERNELS[name], fastShrinkOnLoad: false }).raw().toBuffer();
    before = fmt(diff(old, expected));
  }
  const meta = await sharp(bytes).metadata();
  rows.push(`| ${c.direction} | ${c.source} ${meta.width}x${meta.height} -> ${c.width}x${c.height} | ${c.resample} ${name} | ${fmt(diff(ours, expected))} | ${before} |`);
}
console.log(`\nPhotographs, PIL ${manifest.pillow}; mean / max absolute difference in 8-bit units (1 = 1/255)\n`);
console.log('| direction | image | resample | pilResize vs PIL | sharp resize vs PIL (before) |');
console.log('|---|---|---|---|---|');
for (const row of rows) console.log(row);

// a 4000 x 3000 JPEG photo (coffee.png enlarged) to the encoder's 224 x 224
const big = await sharp(readFileSync(join(dir, 'coffee.png'))).resize(4000, 3000, { fit: 'fill', kernel: 'cubic' }).jpeg({ quality: 90 }).toBuffer();
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Median wall and CPU milliseconds (CPU: all of this process's threads; steadier than wall time on a shared machine). */
async function time(fn, runs = 7) {
  await fn();
  const wall = [];
  const cpu = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(c);
    wall.push(performance.now() - t);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}
const decoded = await decodeRgbLikePil(big);
const timings = {
  'decode (decodeRgbLikePil)': await time(() => decodeRgbLikePil(big)),
  'pilResize bicubic -> 224x224': await time(() => pilResize(decoded, 224, 224, 'bicubic')),
  'pilResize lanczos -> 224x224': await time(() => pilResize(decoded, 224, 224, 'lanczos')),
  'preprocessImage stretch 224 (SigLIP)': await time(() => preprocessImage(big, { size: 224, mode: 'stretch', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] })),
  'preprocessImage crop 224 (CLIP)': await time(() => preprocessImage(big, { size: 224, mode: 'crop' })),
  'before: sharp decode + cubic resize 224': await time(() => sharp(big).removeAlpha().resize(224, 224, { fit: 'fill', kernel: 'cubic', fastShrinkOnLoad: false }).raw().toBuffer()),
};
console.log(`\n4000x3000 JPEG (${(big.length / 1e6).toFixed(1)} MB), median of 7 runs\n`);
console.log('| step | wall ms | CPU ms |');
console.log('|---|---|---|');
for (const [step, t] of Object.entries(timings)) console.log(`| ${step} | ${t.wall.toFixed(0)} | ${t.cpu.toFixed(0)} |`);
