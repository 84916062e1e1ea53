import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { imageToPngBuffer } from '@mllm/data';
import { mllmInProcess } from './capture-output.test-helper';


const run = mllmInProcess;

const tiny = fileURLToPath(new URL('../../../configs/tiny.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lint-data-'));
const images = join(dir, 'pictures');
mkdirSync(images);
const chat = (q: string, a: string) => [{ from: 'human', value: q }, { from: 'gpt', value: a }];
const good = [
  { id: 'red', image: 'red.png', conversations: chat('<image>\nwhat colour ?', 'red .') },
  { id: 'two', images: ['red.png', 'blue.png'], conversations: chat('<image> <image> same colour ?', 'no , red and blue .') },
  { id: 'text', conversations: chat('say hi', 'hi') },
];

/** A width x height red PNG (imageToPngBuffer writes square images only). */
async function redPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
}

/** size x size HWC pixels of one colour. */
const solid = (size: number, rgb: number[]) => Float32Array.from({ length: size * size * 3 }, (_, i) => rgb[i % 3]!);

function writeJsonl(name: string, records: unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n'));
  return path;
}

describe('mllm lint-data', () => {
  it('passes a clean file (exit 0) and prints the first samples with the trained tokens marked', async () => {
    writeFileSync(join(images, 'red.png'), await imageToPngBuffer(solid(40, [1, 0, 0]), 40));
    writeFileSync(join(images, 'blue.png'), await imageToPngBuffer(solid(24, [0, 0, 1]), 24));
    const file = writeJsonl('clean.jsonl', good);
    const { code, out } = await run(['lint-data', file, '--images', images, '--show', '2']);
    expect(code).toBe(0);
    expect(out).toContain('3 samples: 3 ok, 0 bad, 0 too long -> no problems');
    expect(out).toContain(`${file}:1 "red":\n    <bos> <|user|> <image>\\nwhat colour ? <|end|> <|assistant|> [[red . <|end|> <eos>]]`);
    expect(out).toContain(`${file}:2 "two":`);
    expect(out).not.toContain(`${file}:3 "text":`);
  });

  it('reports every problem with file:line and exits 1', async () => {
    writeFileSync(join(images, 'broken.png'), Buffer.from('not a png'));
    const file = writeJsonl('dirty.jsonl', [
      good[0],
      { id: 'count', image: 'red.png', conversations: chat('no placeholder', 'x') },
      '{"id": "cut"',
      { id: 'missing', image: 'gone.png', conversations: chat('<image> ?', 'x') },
      { id: 'broken', image: 'broken.png', conversations: chat('<image> ?', 'x') },
      { id: 'escape', image: '../clean.jsonl', conversations: chat('<image> ?', 'x') },
      { id: 'order', conversations: [{ from: 'human', value: 'a' }, { from: 'human', value: 'b' }] },
      { id: 'empty', conversations: chat('a', '') },
      good[2],
    ]);
    const { code, out } = await run(['lint-data', file, '--images', images]);
    expect(code).toBe(1);
    for (const [line, reason] of [
      [2, /sample "count": conversations: 0 <image> placeholders but 1 image/],
      [3, /not valid JSON/],
      [4, /sample "missing": image "gone.png" not found/],
      [5, /sample "broken": unreadable image/],
      [6, /sample "escape": image path "..\/clean.jsonl" leaves the image folder/],
      [7, /sample "order": conversations.1.from: is "human", expected "gpt"/],
      [8, /sample "empty": conversations.1.value: is empty/],
    ] as const)
      expect(out).toMatch(new RegExp(`  ${file}:${line}: ${reason.source}`));
    expect(out).toContain('9 samples: 2 ok, 7 bad, 0 too long -> 7 problems');
  });

  it('with a config, counts tokens after image expansion and flags samples over the max length', async () => {
    const file = writeJsonl('lengths.jsonl', good);
    // configs/tiny.json: a 16 px ViT with 8 px patches and an MLP projector -> 4 tokens per image.
    // "red": <bos> <|user|> <image> what colour ? <|end|> <|assistant|> red . <|end|> <eos> = 12 ids, 15 with the image
    // "two": 2 images -> 8 image tokens; 17 ids + 6 = 23
    const { code, out, err } = await run(['lint-data', file, '--images', images, '--config', tiny, '--max-length', '16', '--show', '1']);
    expect(err).not.toMatch(/error/);
    expect(code).toBe(1);
    expect(out).toContain('lengths after image expansion (4 tokens per image): max 23');
    expect(out).toMatch(new RegExp(`${file}:2: sample "two": 23 tokens \\(8 of them image tokens\\), over the max length 16`));
    expect(out).toContain('<bos> <|user|> <image> what colour ? <|end|> <|assistant|> [[red . <|end|> <eos>]]');
    expect(out).toContain('3 samples: 2 ok, 0 bad, 1 too long -> 1 problem');
    const roomy = await run(['lint-data', file, '--images', images, '--config', tiny, '--max-length', '23', '--show', '0']);
    expect(roomy.code).toBe(0);
  });

  it('with a tiles encoder, counts each image at the grid its aspect ratio takes', async () => {
    writeFileSync(join(images, 'wide.png'), await redPng(64, 16));
    const config = JSON.parse(readFileSync(tiny, 'utf8'));
    config.encoder.highRes = { strategy: 'tiles', inputSize: 32 };
    const tiled = join(dir, 'tiles.json');
    writeFileSync(tiled, JSON.stringify(config));
    const file = writeJsonl('tiles.jsonl', [good[0], { id: 'wide', image: 'wide.png', conversations: chat('<image>\nwhat colour ?', 'red .') }]);
    // 8 px patches in 16 px tiles: 4 thumbnail tokens, then per row of patches the tiles' patches and image_newline
    // square 40x40 -> 2 x 2 tiles: 4 + 4 * (4 + 1) = 24; wide 64x16 -> 1 x 2 tiles: 4 + 2 * (4 + 1) = 14
    const { out } = await run(['lint-data', file, '--images', images, '--config', tiled, '--max-length', '8', '--show', '0']);
    expect(out).toMatch(new RegExp(`${file}:1: sample "red": 35 tokens \\(24 of them image tokens\\)`));
    expect(out).toMatch(new RegExp(`${file}:2: sample "wide": 25 tokens \\(14 of them image tokens\\)`));
  });

  it('says how to call it when the file, folder or flag is wrong', async () => {
    expect((await run(['lint-data'])).err).toMatch(/mllm lint-data needs a data file/);
    expect((await run(['lint-data', join(dir, 'nope.jsonl')])).err).toMatch(/nope.jsonl not found/);
    const file = writeJsonl('any.jsonl', good);
    const noFolder = await run(['lint-data', file, '--images', join(dir, 'no-folder')]);
    expect(noFolder.code).toBe(2);
    expect(noFolder.err).toMatch(/image folder .*no-folder not found/);
    expect((await run(['lint-data', file, '--max-length', 'lots'])).err).toMatch(/--max-length must be an integer >= 1, got lots/);
  });
});
