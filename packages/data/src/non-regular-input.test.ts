import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadImageFile } from './image-io';
import { ImageFileError, preprocessImage, readImageHeader } from './image-preprocess';
import { LlavaDataset, readLlavaRecords, type BadSample } from './llava-dataset';

const root = mkdtempSync(join(tmpdir(), 'non-regular-'));
const images = join(root, 'images');
mkdirSync(images);
const chat = (question: string) => [
  { from: 'human', value: question },
  { from: 'gpt', value: 'red .' },
];

async function readAll(file: string, options: Parameters<typeof readLlavaRecords>[1] = {}) {
  const skipped: BadSample[] = [];
  const ids: string[] = [];
  for await (const r of readLlavaRecords(file, { onBadSample: 'skip', onSkip: (b) => skipped.push(b), ...options })) ids.push(r.id);
  return { ids, skipped };
}

// a FIFO opened for reading the ordinary way blocks until a writer comes: these tests would hang,
// not fail, if it were opened so; reaching the assertions is the proof, no clock is involved
describe.skipIf(process.platform === 'win32')('LLaVA data: only regular files are opened', () => {
  it('a FIFO in the image folder is a bad sample naming it (skip), not a read that never returns', async () => {
    writeFileSync(join(images, 'red.png'), await sharp({ create: { width: 4, height: 4, channels: 3, background: '#f00' } }).png().toBuffer());
    execFileSync('mkfifo', [join(images, 'pipe.png')]);
    const file = join(root, 'data.jsonl');
    writeFileSync(file, [{ id: 'ok', image: 'red.png', conversations: chat('<image> colour ?') }, { id: 'fifo', image: 'pipe.png', conversations: chat('<image> colour ?') }].map((r) => JSON.stringify(r)).join('\n'));
    for (const checkImages of [true, 'decode'] as const) {
      const { ids, skipped } = await readAll(file, { imageDir: images, checkImages });
      expect(ids).toEqual(['ok']);
      expect(skipped).toEqual([{ file, line: 2, reason: 'sample "fifo": is a FIFO (named pipe), not a regular file; image paths must name image files' }]);
    }
    // decoding for training refuses it the same way
    const dataset = await LlavaDataset.open(file, { imageDir: images, onBadSample: 'skip' });
    expect(await dataset.tryLoadImages(dataset.records[1]!, { size: 4, mode: 'stretch' })).toBeUndefined();
    expect(dataset.skipped.map((s) => s.reason)).toEqual(['sample "fifo": is a FIFO (named pipe), not a regular file; image paths must name image files']);
  });

  it('a FIFO or a folder as the data file is refused by what it is', async () => {
    const fifo = join(root, 'data-pipe.json');
    execFileSync('mkfifo', [fifo]);
    await expect(readAll(fifo)).rejects.toThrow(`data file ${fifo} is a FIFO (named pipe), not a regular file; pass a LLaVA-format .json or .jsonl file`);
    await expect(readAll(images)).rejects.toThrow(`data file ${images} is a folder, not a regular file`);
  });

  it('/dev/zero as an image is refused as a character device by every image reader, before any byte is read', async () => {
    const reason = 'is a character device, not a regular file; image paths must name image files';
    await expect(readImageHeader('/dev/zero')).rejects.toThrow(new ImageFileError('/dev/zero', reason));
    await expect(preprocessImage('/dev/zero', { size: 4, mode: 'stretch' })).rejects.toThrow(new ImageFileError('/dev/zero', reason));
    await expect(loadImageFile('/dev/zero', 4)).rejects.toThrow('image file /dev/zero is a character device, not a regular file');
  });
});

describe('LLaVA data: a record over maxRecordBytes is a bad sample, never held whole', () => {
  const huge = { id: 'huge', conversations: chat(`describe ${'word '.repeat(400_000)}`) }; // ~2 MB
  const records = [{ id: 'a', conversations: chat('one ?') }, huge, { id: 'b', conversations: chat('two ?') }];

  it.each([
    ['JSON lines', 'huge.jsonl', records.map((r) => JSON.stringify(r)).join('\n'), 2],
    ['a JSON array', 'huge.json', JSON.stringify(records, null, 1), JSON.stringify(records.slice(0, 1), null, 1).split('\n').length],
  ])('in %s: the records around it still load', async (_format, name, text, line) => {
    const file = join(root, name);
    writeFileSync(file, text);
    const { ids, skipped } = await readAll(file);
    expect(ids).toEqual(['a', 'b']);
    expect(skipped).toEqual([{ file, line, reason: `the record is over ${1 << 20} bytes (maxRecordBytes); split the conversation or raise the limit` }]);
    // a higher limit reads it
    expect((await readAll(file, { maxRecordBytes: 4 << 20 })).ids).toEqual(['a', 'huge', 'b']);
  });

  it('under fail, stops at it naming file and line', async () => {
    const file = join(root, 'huge-fail.jsonl');
    writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n'));
    await expect(LlavaDataset.open(file, { maxRecordBytes: 4096 })).rejects.toThrow(`${file}:2: the record is over 4096 bytes (maxRecordBytes)`);
  });
});
