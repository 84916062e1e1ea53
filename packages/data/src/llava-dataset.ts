import { realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep, win32 } from 'node:path';
import { MllmError, NotRegularFileError } from '@mllm/core';
import { openRegularFile } from '@mllm/core/internal';
import type { LlavaTurn } from './llava';
import { conversationProblem, firstIssue, llavaRecordSchema, recordImages } from './llava-json';
import { readJsonRecords } from './json-records';
import { DEFAULT_MAX_PIXELS, ImageFileError, outputSize, preprocessImage, readImageHeader, type ImagePreprocessOptions } from './image-preprocess';

/** A validated sample of a LLaVA-format file, text only, with where it came from. */
export interface LlavaRecord {
  id: string;
  /** Image paths as written in the file (relative to the image folder), in `<image>` order. */
  images: string[];
  conversations: LlavaTurn[];
  file: string;
  /** 1-based line the record starts on. */
  line: number;
}

export interface BadSample {
  file: string;
  line: number;
  reason: string;
}

export type OnBadSample = 'skip' | 'fail';

export interface LlavaDatasetOptions {
  /** Folder image paths are relative to; default the data file's folder. */
  imageDir?: string;
  /** 'fail' (default) throws on the first bad sample; 'skip' records it in `skipped` and goes on. */
  onBadSample?: OnBadSample;
  /** Images with more pixels are refused from their header, before decoding. Default 64e6. */
  maxPixels?: number;
  /** Check every image while reading: true reads each header (exists, readable, size); 'decode' also decodes it. */
  checkImages?: boolean | 'decode';
  /** A record over this many bytes of JSON is a bad sample, never parsed (default DEFAULT_MAX_RECORD_BYTES, 1 MiB). */
  maxRecordBytes?: number;
}

/** A bad sample under `onBadSample: 'fail'` (or from loadImages): the message is `file:line: reason` and how to go on. */
export class BadSampleError extends MllmError {
  constructor(readonly bad: BadSample) {
    super(`${bad.file}:${bad.line}: ${bad.reason}\n  (pass --on-bad-sample skip, or onBadSample: 'skip', to skip bad samples and go on)`);
  }
}

type Checked = { record: LlavaRecord } | { bad: BadSample };

/**
 * An image path as written in the data, resolved inside the image folder, or why it is refused.
 * Absolute paths and paths that leave the folder (`../`, after normalisation) are refused:
 * data files come from elsewhere and must not read arbitrary files.
 */
export function resolveImagePath(imageDir: string, path: string): { path: string } | { reason: string } {
  if (path.includes('\0')) return { reason: `image path ${JSON.stringify(path)} contains a NUL byte` };
  if (isAbsolute(path) || win32.isAbsolute(path))
    return { reason: `image path ${JSON.stringify(path)} is absolute; write it relative to the image folder (--images DIR)` };
  const root = resolve(imageDir);
  const full = resolve(root, path);
  if (!inside(root, full)) return { reason: `image path ${JSON.stringify(path)} leaves the image folder ${root}` };
  return { path: full };
}

function inside(root: string, full: string): boolean {
  const rel = relative(root, full);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** The same check after following symlinks: a link inside the folder that points outside it is refused too. */
async function realImagePath(realRoot: string, full: string, written: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(full);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImageFileError(full, code === 'ENOENT' ? `image ${JSON.stringify(written)} not found in ${realRoot}` : `image ${JSON.stringify(written)} cannot be read (${code})`);
  }
  if (!inside(realRoot, real)) throw new ImageFileError(full, `image path ${JSON.stringify(written)} is a link to ${real}, outside the image folder ${realRoot}`);
  return real;
}

async function realFolder(imageDir: string): Promise<string> {
  try {
    const real = await realpath(imageDir);
    if (!(await stat(real)).isDirectory()) throw new MllmError(`image folder ${imageDir} is not a folder; pass the folder the image paths are relative to (--images DIR)`);
    return real;
  } catch (e) {
    if (e instanceof MllmError) throw e;
    throw new MllmError(`image folder ${imageDir} not found; pass the folder the image paths are relative to (--images DIR)`);
  }
}

function validate(file: string, line: number, text: string, imageDir: string): Checked {
  const bad = (reason: string): Checked => ({ bad: { file, line, reason } });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return bad(`not valid JSON (${(e as Error).message})`);
  }
  const parsed = llavaRecordSchema.safeParse(json);
  if (!parsed.success) {
    const id = (json as { id?: unknown } | null)?.id;
    return bad(`${typeof id === 'string' || typeof id === 'number' ? `sample "${id}": ` : ''}${firstIssue(parsed.error)}`);
  }
  const { id, conversations } = parsed.data;
  const images = recordImages(parsed.data);
  const problem = conversationProblem(conversations, images.length);
  if (problem) return bad(`sample "${id}": ${problem}`);
  for (const image of images) {
    const resolved = resolveImagePath(imageDir, image);
    if ('reason' in resolved) return bad(`sample "${id}": ${resolved.reason}`);
  }
  return { record: { id, images, conversations, file, line } };
}

/** Header (or full decode) check of a record's images; the first problem as a BadSample. */
async function checkRecordImages(record: LlavaRecord, realRoot: string, imageDir: string, mode: true | 'decode', maxPixels: number): Promise<Checked> {
  try {
    for (const image of record.images) {
      const path = await realImagePath(realRoot, (resolveImagePath(imageDir, image) as { path: string }).path, image);
      if (mode === 'decode') await preprocessImage(path, { size: 1, mode: 'stretch', resample: 'nearest' }, { maxPixels });
      else await readImageHeader(path, { maxPixels });
    }
    return { record };
  } catch (e) {
    if (!(e instanceof ImageFileError)) throw e;
    return { bad: { file: record.file, line: record.line, reason: `sample "${record.id}": ${e.reason}` } };
  }
}

// image checks run this many records at a time; results are yielded in file order
const CHECK_WINDOW = 8;

/**
 * Streams a LLaVA-format file (a JSON array, or one JSON object per line) as validated records.
 * Never holds the file whole. Each record is checked: schema, alternating human/gpt turns
 * ending with gpt, no empty turns, one `<image>` per image, image paths inside the image folder;
 * with `checkImages`, each image exists and is readable and within `maxPixels`.
 * Under 'fail' the first bad sample throws a BadSampleError (file:line: reason); under 'skip'
 * it goes to `onSkip` and reading goes on.
 */
export async function* readLlavaRecords(
  file: string,
  options: LlavaDatasetOptions & { onSkip?: (bad: BadSample) => void } = {},
): AsyncGenerator<LlavaRecord> {
  const imageDir = resolve(options.imageDir ?? dirname(file));
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const checkImages = options.checkImages || undefined;
  const handle = await openDataFile(file);
  const realRoot = checkImages ? await realFolder(imageDir) : imageDir;
  const settle = (c: Checked): LlavaRecord | undefined => {
    if ('record' in c) return c.record;
    if ((options.onBadSample ?? 'fail') === 'fail') throw new BadSampleError(c.bad);
    options.onSkip?.(c.bad);
    return undefined;
  };
  let window: Checked[] = [];
  const flush = async function* (): AsyncGenerator<LlavaRecord> {
    const checked = checkImages
      ? await Promise.all(window.map((c) => ('record' in c && c.record.images.length > 0 ? checkRecordImages(c.record, realRoot, imageDir, checkImages, maxPixels) : c)))
      : window;
    window = [];
    for (const c of checked) {
      const record = settle(c);
      if (record) yield record;
    }
  };
  try {
    for await (const raw of readJsonRecords(handle, { maxRecordBytes: options.maxRecordBytes })) {
      window.push('error' in raw ? { bad: { file, line: raw.line, reason: raw.error } } : validate(file, raw.line, raw.text, imageDir));
      if (window.length >= CHECK_WINDOW || !checkImages) yield* flush();
    }
    yield* flush();
  } finally {
    await handle.close();
  }
}

/** The data file opened for reading, refused unless it is a regular file (a FIFO would block the run for ever). */
async function openDataFile(file: string) {
  try {
    return await openRegularFile(file, 'data file');
  } catch (e) {
    if (e instanceof NotRegularFileError) throw new MllmError(`data file ${file} is ${e.kind}, not a regular file; pass a LLaVA-format .json or .jsonl file`);
    const code = (e as NodeJS.ErrnoException).code;
    throw new MllmError(code === 'ENOENT' ? `data file ${file} not found; check the path` : `data file ${file} cannot be read (${code}); check its permissions`);
  }
}

/** A LLaVA-format dataset: every record's text in memory, images decoded on demand. */
export class LlavaDataset {
  private readonly skippedList: BadSample[];
  private readonly failed = new Set<string>();
  private realRoot?: string;

  private constructor(
    readonly file: string,
    readonly imageDir: string,
    readonly records: readonly LlavaRecord[],
    skipped: BadSample[],
    private readonly options: LlavaDatasetOptions,
  ) {
    this.skippedList = skipped;
  }

  /** Reads and validates the whole file (see readLlavaRecords); pixels are not decoded unless checkImages says so. */
  static async open(file: string, options: LlavaDatasetOptions = {}): Promise<LlavaDataset> {
    const skipped: BadSample[] = [];
    const records: LlavaRecord[] = [];
    for await (const record of readLlavaRecords(file, { ...options, onSkip: (bad) => skipped.push(bad) })) records.push(record);
    return new LlavaDataset(file, resolve(options.imageDir ?? dirname(file)), records, skipped, options);
  }

  /** Bad samples found so far: while reading the file, then by loadImages. */
  get skipped(): readonly BadSample[] {
    return this.skippedList;
  }

  /**
   * Decodes and preprocesses one record's images in order. A missing, corrupt or oversized
   * image (or one whose path leaves the image folder) makes the record a BadSample: under
   * 'skip' it is added to `skipped` once; a BadSampleError naming file:line is thrown either way
   * (see tryLoadImages to go on without catching).
   */
  async loadImages(record: LlavaRecord, preprocess: ImagePreprocessOptions): Promise<Float32Array[]> {
    return (await this.load(record, async () => preprocess)).map((image) => image.pixels);
  }

  /**
   * loadImages with each image's output size chosen from its own size (read from the file
   * header): a tiled encoder's canvas for the image's aspect ratio. Returns each image with the
   * width and height it was preprocessed to.
   */
  async loadSizedImages(
    record: LlavaRecord,
    preprocessFor: (size: { width: number; height: number }) => ImagePreprocessOptions,
  ): Promise<{ pixels: Float32Array; width: number; height: number }[]> {
    const maxPixels = this.options.maxPixels ?? DEFAULT_MAX_PIXELS;
    return this.load(record, async (path) => preprocessFor(await readImageHeader(path, { maxPixels })));
  }

  private async load(
    record: LlavaRecord,
    preprocessFor: (path: string) => Promise<ImagePreprocessOptions>,
  ): Promise<{ pixels: Float32Array; width: number; height: number }[]> {
    const key = `${record.file}:${record.line}`;
    const limits = { maxPixels: this.options.maxPixels ?? DEFAULT_MAX_PIXELS };
    try {
      this.realRoot ??= await realFolder(this.imageDir);
      const out: { pixels: Float32Array; width: number; height: number }[] = [];
      for (const image of record.images) {
        const resolved = resolveImagePath(this.imageDir, image);
        if ('reason' in resolved) throw new ImageFileError(image, resolved.reason);
        const path = await realImagePath(this.realRoot, resolved.path, image);
        const preprocess = await preprocessFor(path);
        out.push({ pixels: await preprocessImage(path, preprocess, limits), ...outputSize(preprocess) });
      }
      return out;
    } catch (e) {
      if (!(e instanceof ImageFileError)) throw e;
      const bad = { file: record.file, line: record.line, reason: `sample "${record.id}": ${e.reason}` };
      if ((this.options.onBadSample ?? 'fail') === 'skip' && !this.failed.has(key)) this.skippedList.push(bad);
      this.failed.add(key);
      throw new BadSampleError(bad);
    }
  }

  /** loadImages, but under 'skip' a bad record gives undefined (and is counted in `skipped`) instead of throwing. */
  async tryLoadImages(record: LlavaRecord, preprocess: ImagePreprocessOptions): Promise<Float32Array[] | undefined> {
    try {
      return await this.loadImages(record, preprocess);
    } catch (e) {
      if (e instanceof BadSampleError && (this.options.onBadSample ?? 'fail') === 'skip') return undefined;
      throw e;
    }
  }
}
