#!/usr/bin/env node
// Data pipeline throughput: image files decoded + preprocessed per second (sharp), one at a
// time and with several decodes in flight, for the encoder inputs mllm-ts uses (32 px Shapes
// ViT) and CLIP's 224. `node tools/bench-data.mjs` after a build, or part of `npm run bench`.
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { preprocessImage } from '@mllm/data';

const WIDTH = 640;
const HEIGHT = 480;

export const DATA_TARGETS = [
  { label: '32 crop', options: { size: 32, mode: 'crop' } },
  { label: '224 crop', options: { size: 224, mode: 'crop' } },
  { label: '224 pad', options: { size: 224, mode: 'pad', mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] } },
  { label: '336 crop', options: { size: 336, mode: 'crop' } },
];

/** A photo-like 640x480 test card: smooth gradients, a few hard edges and some texture, so PNG and JPEG sizes are realistic. */
function testCard() {
  const bytes = Buffer.alloc(WIDTH * HEIGHT * 3);
  let seed = 1;
  for (let y = 0; y < HEIGHT; y++)
    for (let x = 0; x < WIDTH; x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const noise = (seed >> 16) % 24;
      const i = (y * WIDTH + x) * 3;
      const inBox = x > 200 && x < 420 && y > 120 && y < 330;
      bytes[i] = inBox ? 220 : (x * 255) / WIDTH;
      bytes[i + 1] = (y * 255) / HEIGHT / 2 + noise * 2;
      bytes[i + 2] = inBox ? 40 : 128 + 100 * Math.sin(x / 23) * Math.cos(y / 31);
    }
  return bytes;
}

async function timeIt(seconds, concurrency, task) {
  for (let i = 0; i < 3; i++) await task(); // warm-up: sharp's first calls load codecs
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const worker = async () => {
    while (performance.now() < end) {
      await task();
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const cpu = process.cpuUsage(cpu0);
  // CPU time of the whole process (libuv's decode threads included) per image: what a core spends, whatever the load
  return { perSecond: done / ((performance.now() - t0) / 1000), cpuMs: (cpu.user + cpu.system) / 1000 / done };
}

/** images/s for each source format and target, sequential and with `concurrency` decodes in flight. */
export async function benchDataPipeline({ seconds = Number(process.env.BENCH_DATA_SECONDS ?? 1.5), concurrency = 4 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-data-'));
  try {
    const raw = sharp(testCard(), { raw: { width: WIDTH, height: HEIGHT, channels: 3 } });
    const files = {
      png: join(dir, 'card.png'),
      jpeg: join(dir, 'card.jpg'),
    };
    writeFileSync(files.png, await raw.clone().png().toBuffer());
    writeFileSync(files.jpeg, await raw.clone().jpeg({ quality: 90 }).toBuffer());
    const rows = [];
    for (const [format, path] of Object.entries(files))
      for (const target of DATA_TARGETS) {
        const task = () => preprocessImage(path, target.options);
        rows.push({
          source: `${WIDTH}x${HEIGHT} ${format} (${Math.round(statSync(path).size / 1024)} KiB)`,
          target: target.label,
          ...(await timeIt(seconds, 1, task).then((r) => ({ sequential: r.perSecond, cpuMs: r.cpuMs }))),
          concurrent: (await timeIt(seconds, concurrency, task)).perSecond,
        });
      }
    return { rows, concurrency, threadpool: Number(process.env.UV_THREADPOOL_SIZE ?? 4), vipsThreads: sharp.concurrency() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatDataBench({ rows, concurrency, threadpool, vipsThreads }) {
  const lines = [
    `data pipeline: image files decoded + preprocessed (sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}; ${vipsThreads} vips thread(s) per image, libuv pool ${threadpool})`,
    `source                  target     images/s sequential  images/s ${concurrency} in flight  CPU ms/image`,
  ];
  for (const r of rows)
    lines.push(`${r.source.padEnd(23)} ${r.target.padEnd(10)} ${r.sequential.toFixed(0).padStart(19)} ${r.concurrent.toFixed(0).padStart(19)} ${r.cpuMs.toFixed(1).padStart(13)}`);
  lines.push(`(${os.loadavg()[0].toFixed(1)} load average on ${os.availableParallelism()} cores while measuring: images/s fall with other work, CPU ms/image much less)`);
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(formatDataBench(await benchDataPipeline()));
}
