import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';

/** One record's JSON text and the 1-based line it starts on, or why that part of the file is not a record. */
export type RawRecord = { line: number; text: string } | { line: number; error: string };

/** '[' for a JSON array, '{' (or anything else) for JSON lines; sniffed from the first non-blank character. */
async function firstChar(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    for (let position = 0; ; ) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return undefined;
      const text = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
      const match = /\S/.exec(text);
      if (match) return match[0];
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

async function* jsonLines(file: string): AsyncGenerator<RawRecord> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() !== '') yield { line, text: line === 1 ? text.replace(/^\uFEFF/, '') : text };
  }
}

/**
 * The elements of a top-level JSON array, read in chunks: the array is never held whole, only
 * the element being read. Tracks strings and bracket depth to find where each element starts
 * (its line) and ends; the element itself is parsed by JSON.parse later.
 */
async function* jsonArrayElements(file: string): AsyncGenerator<RawRecord> {
  let line = 1;
  let state: 'before' | 'between' | 'element' | 'after' = 'before';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let pieces: string[] = [];
  let startLine = 0;
  let sawComma = true; // an element may follow '['
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }) as AsyncIterable<string>) {
    let segment = 0;
    const finish = (end: number): RawRecord => {
      pieces.push(chunk.slice(segment, end));
      const text = pieces.join('');
      pieces = [];
      state = 'between';
      sawComma = false;
      return { line: startLine, text };
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
    if (state === 'element') pieces.push(chunk.slice(segment));
  }
  const end = state as 'before' | 'between' | 'element' | 'after'; // assigned inside closures, so TS cannot follow it
  if (end === 'element') yield { line: startLine, error: 'the file ends inside this array element (a missing ] or })' };
  else if (end === 'between') yield { line, error: 'the file ends before the closing ] of the array' };
  else if (end === 'before') yield { line, error: 'the file is empty' };
}

/** A JSON array or JSON lines file as records with their line numbers, streamed. */
export async function* readJsonRecords(file: string): AsyncGenerator<RawRecord> {
  const first = await firstChar(file);
  if (first === undefined) return;
  yield* first === '[' ? jsonArrayElements(file) : jsonLines(file);
}
