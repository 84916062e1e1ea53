import type { FileHandle } from 'node:fs/promises';

/** One record's JSON text and the 1-based line it starts on, or why that part of the file is not a record. */
export type RawRecord = { line: number; text: string } | { line: number; error: string };

/** Records longer than this are refused unread by default: far above any published LLaVA record (a few KB), far below a heap limit. */
export const DEFAULT_MAX_RECORD_BYTES = 1 << 20;

export interface JsonRecordsOptions {
  /** A record (one line, or one array element) over this many bytes of UTF-8 is an error record; its text is never held. */
  maxRecordBytes?: number;
}

/** '[' for a JSON array, '{' (or anything else) for JSON lines; sniffed from the first non-blank character. */
async function firstChar(handle: FileHandle): Promise<string | undefined> {
  const buffer = Buffer.alloc(4096);
  for (let position = 0; ; ) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return undefined;
    const text = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
    const match = /\S/.exec(text);
    if (match) return match[0];
    position += bytesRead;
  }
}

function chunks(handle: FileHandle): AsyncIterable<string> {
  return handle.createReadStream({ start: 0, encoding: 'utf8', highWaterMark: 1 << 20, autoClose: false }) as AsyncIterable<string>;
}

/**
 * The text of one record as it arrives in pieces, up to a byte limit: past it the pieces are
 * dropped (the record is reported as too long), so one huge record cannot fill the heap.
 */
class RecordText {
  private pieces: string[] = [];
  private bytes = 0;
  constructor(private readonly maxBytes: number) {}

  push(piece: string): void {
    if (this.bytes > this.maxBytes) return;
    this.bytes += Buffer.byteLength(piece);
    if (this.bytes > this.maxBytes) this.pieces = [];
    else this.pieces.push(piece);
  }

  /** The record as a RawRecord starting on `line`; the text is reset for the next one. */
  take(line: number): RawRecord {
    const over = this.bytes > this.maxBytes;
    const text = this.pieces.join('');
    this.pieces = [];
    this.bytes = 0;
    return over
      ? { line, error: `the record is over ${this.maxBytes} bytes (maxRecordBytes); split the conversation or raise the limit` }
      : { line, text };
  }

  get empty(): boolean {
    return this.bytes === 0;
  }

  /** Whether the text so far is blank (a blank line is no record); false once over the limit. */
  get blank(): boolean {
    return this.bytes <= this.maxBytes && this.pieces.every((p) => p.trim() === '');
  }
}

/** One record per line; a line is held only up to the byte limit. */
async function* jsonLines(handle: FileHandle, maxBytes: number): AsyncGenerator<RawRecord> {
  const text = new RecordText(maxBytes);
  let line = 1;
  // the line as a record: none for a blank line, a byte-order mark off the first
  const finish = (): RawRecord | undefined => {
    const blank = text.blank;
    const record = text.take(line);
    if (blank) return undefined;
    return 'text' in record && line === 1 ? { line, text: record.text.replace(/^\uFEFF/, '') } : record;
  };
  for await (const chunk of chunks(handle)) {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      text.push(chunk.slice(start, nl > start && chunk[nl - 1] === '\r' ? nl - 1 : nl));
      const record = finish();
      if (record) yield record;
      line++;
      start = nl + 1;
    }
    if (start < chunk.length) text.push(chunk.slice(start));
  }
  if (!text.empty) {
    const record = finish();
    if (record) yield record;
  }
}

/**
 * The elements of a top-level JSON array, read in chunks: the array is never held whole, only
 * the element being read. Tracks strings and bracket depth to find where each element starts
 * (its line) and ends; the element itself is parsed by JSON.parse later.
 */
async function* jsonArrayElements(handle: FileHandle, maxBytes: number): AsyncGenerator<RawRecord> {
  let line = 1;
  let state: 'before' | 'between' | 'element' | 'after' = 'before';
  let depth = 0;
  let inString = false;
  let escaped = false;
  const text = new RecordText(maxBytes);
  let startLine = 0;
  let sawComma = true; // an element may follow '['
  for await (const chunk of chunks(handle)) {
    let segment = 0;
    const finish = (end: number): RawRecord => {
      text.push(chunk.slice(segment, end));
      state = 'between';
      sawComma = false;
      return text.take(startLine);
    };
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i]!;
      if (state === 'element') {
        if (inString) {
          if (escaped) escaped = false;
          else if (ch === '\\') escaped = true;
          else if (ch === '"') inString = false;
        } else if (ch === '"') inString = true;
        else if (ch === '{' || ch === '[') depth++;
        else if ((ch === '}' || ch === ']') && depth > 1) depth--;
        else if (ch === ',' && depth === 1) {
          yield finish(i);
          sawComma = true;
        } else if (ch === ']' && depth === 1) {
          yield finish(i);
          state = 'after';
        }
      } else if (ch === '\n' || ch === ' ' || ch === '\t' || ch === '\r' || ch === '\uFEFF') {
        // blank between tokens
      } else if (state === 'before') {
        if (ch !== '[') {
          yield { line, error: `expected a JSON array or one JSON object per line, found ${JSON.stringify(ch)}` };
          return;
        }
        state = 'between';
        depth = 1;
      } else if (state === 'between') {
        if (ch === ']') state = 'after';
        else if (ch === ',') {
          if (sawComma) yield { line, error: 'an empty array element (two commas, or a comma after [)' };
          sawComma = true;
        } else {
          if (!sawComma) yield { line, error: 'a missing comma between array elements' };
          state = 'element';
          startLine = line;
          segment = i;
          depth = 1;
          i--; // read the first character again as part of the element
          continue;
        }
      } else {
        yield { line, error: 'text after the closing ] of the array' };
        return;
      }
      if (ch === '\n') line++;
    }
    if (state === 'element') text.push(chunk.slice(segment));
  }
  const end = state as 'before' | 'between' | 'element' | 'after'; // assigned inside closures, so TS cannot follow it
  if (end === 'element') yield { line: startLine, error: 'the file ends inside this array element (a missing ] or })' };
  else if (end === 'between') yield { line, error: 'the file ends before the closing ] of the array' };
  else if (end === 'before') yield { line, error: 'the file is empty' };
}

/**
 * A JSON array or JSON lines file as records with their line numbers, streamed from one handle
 * (the caller opened it as a regular file: see openRegularFile in @mllm/core). A record over
 * `maxRecordBytes` comes back as an error record without its text.
 */
export async function* readJsonRecords(handle: FileHandle, options: JsonRecordsOptions = {}): AsyncGenerator<RawRecord> {
  const maxBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const first = await firstChar(handle);
  if (first === undefined) return;
  yield* first === '[' ? jsonArrayElements(handle, maxBytes) : jsonLines(handle, maxBytes);
}
