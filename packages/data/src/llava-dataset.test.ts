import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { BadSampleError, LlavaDataset, readLlavaRecords, resolveImagePath, type BadSample, type LlavaRecord } from './llava-dataset';
import { loadLlavaJson } from './llava-json';

const root = mkdtempSync(join(tmpdir(), 'llava-dataset-'));
const images = join(root, 'images');
mkdirSync(join(images, 'sub'), { recursive: true });

const turn = (from: 'human' | 'gpt' | 'system', value: string) => ({ from, value });
const chat = (question: string, answer = 'an answer .') => [turn('human', question), turn('gpt', answer)];

async function writeImage(name: string, width: number, height: number, colour: [number, number, number], format: 'png' | 'jpeg'): Promise<void> {
  const image = sharp({ create: { width, height, channels: 3, background: { r: colour[0], g: colour[1], b: colour[2] } } });
  writeFileSync(join(images, name), await (format === 'png' ? image.png() : image.jpeg({ quality: 95 })).toBuffer());
}

function write(name: string, text: string): string {
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
}

async function readAll(file: string, options: Parameters<typeof readLlavaRecords>[1] = {}): Promise<{ records: LlavaRecord[]; skipped: BadSample[] }> {
  const skipped: BadSample[] = [];
  const records: LlavaRecord[] = [];
  for await (const r of readLlavaRecords(file, { onBadSample: 'skip', onSkip: (b) => skipped.push(b), ...options })) records.push(r);
  return { records, skipped };
}

const GOOD = [
  { id: 'one', image: 'red.png', conversations: chat('<image>\nwhat colour ?', 'red .') },
  { id: 2, images: ['red.png', 'sub/blue.jpg'], conversations: [turn('human', '<image> and <image>: same ?'), turn('gpt', 'no .'), turn('human', 'sure ?'), turn('gpt', 'yes .')] },
  { id: 'text', conversations: chat('hello ?', 'hi .') },
];

describe('readLlavaRecords', () => {
  it('reads a JSON array and JSON lines alike: image, images and text-only records, with their lines', async () => {
    const array = write('good.json', JSON.stringify(GOOD, null, 2));
    const lines = write('good.jsonl', `${GOOD.map((g) => JSON.stringify(g)).join('\n')}\n\n`);
    const fromArray = await readAll(array);
    const fromLines = await readAll(lines);
    expect(fromArray.skipped).toEqual([]);
    expect(fromLines.skipped).toEqual([]);
    expect(fromArray.records.map((r) => [r.id, r.images])).toEqual([['one', ['red.png']], ['2', ['red.png', 'sub/blue.jpg']], ['text', []]]);
    expect(fromLines.records.map((r) => ({ ...r, line: 0, file: '' }))).toEqual(fromArray.records.map((r) => ({ ...r, line: 0, file: '' })));
    expect(fromLines.records.map((r) => r.line)).toEqual([1, 2, 3]);
    // the array's elements start where `{` opens each one
    const text = JSON.stringify(GOOD, null, 2).split('\n');
    const starts = text.flatMap((l, i) => (l === '  {' ? [i + 1] : []));
    expect(fromArray.records.map((r) => r.line)).toEqual(starts);
  });

  it('reports every problem with file, line and a reason, and keeps the good records (skip)', async () => {
    const lines = [
      JSON.stringify(GOOD[0]),
      '{"id": "broken", "conversations": [',
      JSON.stringify({ id: 'count', image: 'red.png', conversations: chat('<image> <image> two ?') }),
      JSON.stringify({ id: 'order', conversations: [turn('gpt', 'me first'), turn('human', 'no')] }),
      JSON.stringify({ id: 'end', conversations: [turn('human', 'a'), turn('gpt', 'b'), turn('human', 'c')] }),
      JSON.stringify({ id: 'empty', conversations: chat('question ?', '  ') }),
      JSON.stringify({ id: 'role', conversations: [turn('human', 'a'), { from: 'assistant', value: 'b' }] }),
      JSON.stringify({ id: 'both', image: 'red.png', images: ['red.png'], conversations: chat('<image> ?') }),
      JSON.stringify({ id: 'up', image: '../secret.png', conversations: chat('<image> ?') }),
      JSON.stringify({ id: 'abs', image: '/etc/passwd', conversations: chat('<image> ?') }),
      JSON.stringify({ id: 'sneaky', image: 'sub/../../secret.png', conversations: chat('<image> ?') }),
      JSON.stringify({ id: 'gptimage', image: 'red.png', conversations: [turn('human', 'look'), turn('gpt', '<image>')] }),
      JSON.stringify(GOOD[2]),
    ];
    const file = write('bad.jsonl', lines.join('\n'));
    const { records, skipped } = await readAll(file);
    expect(records.map((r) => r.id)).toEqual(['one', 'text']);
    expect(skipped.map((b) => b.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(skipped.every((b) => b.file === file)).toBe(true);
    const reasons = skipped.map((b) => b.reason);
    expect(reasons[0]).toMatch(/^not valid JSON/);
    expect(reasons[1]).toMatch(/sample "count": conversations: 2 <image> placeholders but 1 image/);
    expect(reasons[2]).toMatch(/sample "order": conversations.0.from: is "gpt", expected "human"/);
    expect(reasons[3]).toMatch(/sample "end": conversations: ends with a human turn/);
    expect(reasons[4]).toMatch(/sample "empty": conversations.1.value: is empty/);
    expect(reasons[5]).toMatch(/sample "role": conversations.1.from:/);
    expect(reasons[6]).toMatch(/sample "both": .*both "image" and "images"/);
    expect(reasons[7]).toMatch(/sample "up": image path "..\/secret.png" leaves the image folder/);
    expect(reasons[8]).toMatch(/sample "abs": image path "\/etc\/passwd" is absolute/);
    expect(reasons[9]).toMatch(/sample "sneaky": image path "sub\/..\/..\/secret.png" leaves the image folder/);
    expect(reasons[10]).toMatch(/sample "gptimage": conversations.1.value: has <image> in a gpt turn/);
  });

  it('takes one leading system turn (never with an image) and refuses one anywhere else', async () => {
    const system = turn('system', 'you answer briefly .');
    const lines = [
      JSON.stringify({ id: 'sys', conversations: [system, ...chat('hello ?', 'hi .')] }),
      JSON.stringify({ id: 'late', conversations: [...chat('hello ?', 'hi .'), system, ...chat('and ?', 'bye .')] }),
      JSON.stringify({ id: 'sysimage', image: 'red.png', conversations: [turn('system', '<image>'), ...chat('what ?')] }),
      JSON.stringify({ id: 'alone', conversations: [system] }),
      JSON.stringify({ id: 'sysempty', conversations: [turn('system', ' '), ...chat('hello ?')] }),
    ];
    const { records, skipped } = await readAll(write('system.jsonl', lines.join('\n')));
    expect(records.map((r) => [r.id, r.conversations.map((t) => t.from)])).toEqual([['sys', ['system', 'human', 'gpt']]]);
    const reasons = skipped.map((b) => b.reason);
    expect(reasons[0]).toMatch(/sample "late": conversations.2.from: is "system", expected "human"/);
    expect(reasons[1]).toMatch(/sample "sysimage": conversations.0.value: has <image> in the system turn/);
    expect(reasons[2]).toMatch(/sample "alone": conversations: has only a system turn/);
    expect(reasons[3]).toMatch(/sample "sysempty": conversations.0.value: is empty/);
  });

  it("under 'fail' (the default) stops at the first bad sample with file:line and how to go on, after yielding the good ones before it", async () => {
    const file = write('fail.jsonl', [JSON.stringify(GOOD[0]), JSON.stringify(GOOD[2]), 'not json', JSON.stringify(GOOD[0])].join('\n'));
    const seen: string[] = [];
    const read = async () => {
      for await (const r of readLlavaRecords(file)) seen.push(r.id);
    };
    await expect(read()).rejects.toThrow(BadSampleError);
    expect(seen).toEqual(['one', 'text']);
    await expect(read()).rejects.toThrow(new RegExp(`${file}:3: not valid JSON[^]*--on-bad-sample skip`));
  });

  it('a malformed element of a JSON array is one bad sample; the elements after it still load', async () => {
    const text = `[\n  ${JSON.stringify(GOOD[0])},\n  {"id": "x", "conversations": [}],\n  ${JSON.stringify(GOOD[2])}\n]\n`;
    const { records, skipped } = await readAll(write('array-bad.json', text));
    expect(records.map((r) => [r.id, r.line])).toEqual([['one', 2], ['text', 4]]);
    expect(skipped).toMatchObject([{ line: 3, reason: expect.stringMatching(/not valid JSON/) }]);
    const cut = await readAll(write('array-cut.json', `[\n${JSON.stringify(GOOD[0])},\n{"id": "x"`));
    expect(cut.records.map((r) => r.id)).toEqual(['one']);
    expect(cut.skipped).toMatchObject([{ line: 3, reason: expect.stringMatching(/ends inside this array element/) }]);
  });

  it('streams a JSON array bigger than one read chunk (1 MiB) element by element, lines intact', async () => {
    const n = 3000;
    const padding = 'x'.repeat(400);
    const items = Array.from({ length: n }, (_, i) => ({ id: `r${i}`, conversations: chat(`question ${i} "quoted" [brackets] {braces} ${padding}`) }));
    const text = JSON.stringify(items, null, 1);
    expect(text.length).toBeGreaterThan(1.1 * 2 ** 20);
    const { records, skipped } = await readAll(write('big.json', text));
    expect(skipped).toEqual([]);
    expect(records).toHaveLength(n);
    expect(records[n - 1]!.id).toBe(`r${n - 1}`);
    const starts = text.split('\n').flatMap((l, i) => (l === ' {' ? [i + 1] : []));
    expect(records.map((r) => r.line)).toEqual(starts);
  });

  it('with checkImages, finds missing, unreadable and oversized images and links that leave the folder', async () => {
    await writeImage('red.png', 40, 30, [255, 0, 0], 'png');
    await writeImage('sub/blue.jpg', 30, 40, [0, 0, 255], 'jpeg');
    await writeImage('huge.png', 300, 200, [0, 255, 0], 'png');
    writeFileSync(join(images, 'corrupt.jpg'), Buffer.from('definitely not a jpeg'));
    writeFileSync(join(root, 'secret.png'), await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).png().toBuffer());
    symlinkSync(join(root, 'secret.png'), join(images, 'link.png'));
    const samples = [
      ...GOOD,
      { id: 'missing', image: 'nope.png', conversations: chat('<image> ?') },
      { id: 'corrupt', image: 'corrupt.jpg', conversations: chat('<image> ?') },
      { id: 'huge', image: 'huge.png', conversations: chat('<image> ?') },
      { id: 'link', image: 'link.png', conversations: chat('<image> ?') },
    ];
    const file = write('check.json', JSON.stringify(samples, null, 2));
    const { records, skipped } = await readAll(file, { imageDir: images, checkImages: true, maxPixels: 50_000 });
    expect(records.map((r) => r.id)).toEqual(['one', '2', 'text']);
    expect(skipped.map((b) => b.reason)).toEqual([
      expect.stringMatching(/sample "missing": image "nope.png" not found in .*images/),
      expect.stringMatching(/sample "corrupt": unreadable image/),
      expect.stringMatching(/sample "huge": image is 300x200 = 60000 pixels, over the limit of 50000/),
      expect.stringMatching(/sample "link": image path "link.png" is a link to .*secret.png, outside the image folder/),
    ]);
    await expect(readAll(file, { imageDir: join(root, 'no-such-folder'), checkImages: true })).rejects.toThrow(/image folder .*no-such-folder not found; pass .*--images DIR/);
  });
});

describe('LlavaDataset', () => {
  it('opens a folder of real PNG/JPEG files and decodes multi-image samples in <image> order', async () => {
    await writeImage('red.png', 40, 30, [255, 0, 0], 'png');
    await writeImage('sub/blue.jpg', 30, 40, [0, 0, 255], 'jpeg');
    mkdirSync(join(root, 'data'), { recursive: true });
    const file = write('data/train.json', JSON.stringify(GOOD));
    const dataset = await LlavaDataset.open(file, { imageDir: images });
    expect(dataset.records).toHaveLength(3);
    expect(dataset.imageDir).toBe(images);
    const [red, blue] = await dataset.loadImages(dataset.records[1]!, { size: 8, mode: 'crop' });
    expect(red!.length).toBe(8 * 8 * 3);
    expect(Array.from(red!.subarray(0, 3))).toEqual([1, 0, 0]);
    expect(blue![2]!).toBeGreaterThan(0.9);
    expect(blue![0]!).toBeLessThan(0.1);
    expect(await dataset.loadImages(dataset.records[2]!, { size: 8, mode: 'crop' })).toEqual([]);
  });

  it('loadSizedImages sizes each image from its own header', async () => {
    await writeImage('red.png', 40, 30, [255, 0, 0], 'png');
    await writeImage('sub/blue.jpg', 30, 40, [0, 0, 255], 'jpeg');
    const file = write('data/train.json', JSON.stringify(GOOD));
    const dataset = await LlavaDataset.open(file, { imageDir: images });
    const seen: { width: number; height: number }[] = [];
    const out = await dataset.loadSizedImages(dataset.records[1]!, (size) => {
      seen.push({ width: size.width, height: size.height });
      return { size: size.width > size.height ? { width: 16, height: 8 } : { width: 8, height: 16 }, mode: 'pad' };
    });
    expect(seen).toEqual([{ width: 40, height: 30 }, { width: 30, height: 40 }]); // red.png, sub/blue.jpg
    expect(out.map(({ width, height, pixels }) => [width, height, pixels.length])).toEqual([[16, 8, 16 * 8 * 3], [8, 16, 8 * 16 * 3]]);
    expect(Array.from(out[0]!.pixels.subarray((4 * 16 + 8) * 3, (4 * 16 + 8) * 3 + 3))).toEqual([1, 0, 0]);
  });

  it('a bad image at load time is a BadSample: skipped once under skip, an error naming file:line under fail', async () => {
    writeFileSync(join(images, 'later-corrupt.png'), Buffer.from('garbage'));
    const samples = [GOOD[0], { id: 'bad-later', image: 'later-corrupt.png', conversations: chat('<image> ?') }];
    const file = write('later.jsonl', samples.map((s) => JSON.stringify(s)).join('\n'));
    const skip = await LlavaDataset.open(file, { imageDir: images, onBadSample: 'skip' });
    expect(skip.records).toHaveLength(2);
    expect(await skip.tryLoadImages(skip.records[1]!, { size: 8, mode: 'pad' })).toBeUndefined();
    expect(await skip.tryLoadImages(skip.records[1]!, { size: 8, mode: 'pad' })).toBeUndefined();
    expect(skip.skipped).toEqual([{ file, line: 2, reason: expect.stringMatching(/sample "bad-later": unreadable image/) }]);
    expect(await skip.tryLoadImages(skip.records[0]!, { size: 8, mode: 'pad' })).toHaveLength(1);
    const fail = await LlavaDataset.open(file, { imageDir: images });
    await expect(fail.loadImages(fail.records[1]!, { size: 8, mode: 'pad' })).rejects.toThrow(new RegExp(`${file}:2: sample "bad-later": unreadable image`));
    await expect(fail.tryLoadImages(fail.records[1]!, { size: 8, mode: 'pad' })).rejects.toThrow(BadSampleError);
  });
});

describe('resolveImagePath', () => {
  it('keeps paths inside the folder and refuses the rest', () => {
    expect(resolveImagePath('/data/img', 'a/b.png')).toEqual({ path: '/data/img/a/b.png' });
    expect(resolveImagePath('/data/img', './a/../b.png')).toEqual({ path: '/data/img/b.png' });
    for (const p of ['../b.png', 'a/../../b.png', '..', '.', 'C:\\x.png', '/abs.png', 'a\0b.png'])
      expect(resolveImagePath('/data/img', p)).toHaveProperty('reason');
  });
});

describe('loadLlavaJson shares the record checks', () => {
  it('refuses a sample whose <image> count does not match its image', async () => {
    const file = write('legacy.json', JSON.stringify([{ id: 'a', image: 'x.png', conversations: chat('no placeholder here') }]));
    await expect(loadLlavaJson(file)).rejects.toThrow(/sample 0: conversations: 0 <image> placeholders but 1 image/);
  });
});
