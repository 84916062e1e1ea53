import { z } from 'zod';
import { MllmError, NotRegularFileError } from '@mllm/core';
import { readRegularFile } from '@mllm/core/internal';
import type { PreferenceRecord } from './preference';

export const preferenceRecordSchema = z.object({
  prompt: z.string(),
  chosen: z.string(),
  rejected: z.string(),
  image: z.string().optional(),
});

/** One bad record: where it starts in the file and what is wrong with it. */
export interface PreferenceIssue {
  /** 1-based line where the record starts. */
  line: number;
  /** 0-based position of the record in the file. */
  index: number;
  /** The offending field, if the problem is one field's. */
  field?: string;
  message: string;
}

/** Preference data with bad records; lists every problem found, each as `file:line`. */
export class PreferenceDataError extends MllmError {
  constructor(
    readonly file: string,
    readonly issues: PreferenceIssue[],
  ) {
    const lines = issues.map((i) => `  - ${file}:${i.line} (record ${i.index})${i.field ? ` ${i.field}` : ''}: ${i.message}`);
    super(`Invalid preference data in ${file} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`);
  }
}

type RecordProblem = Pick<PreferenceIssue, 'field' | 'message'>;

/** Every problem of one record, so a user fixes a file in one pass instead of one error per run. */
function recordProblems(item: unknown): RecordProblem[] {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return [{ message: `expected an object {prompt, chosen, rejected, image?}, got ${Array.isArray(item) ? 'an array' : item === null ? 'null' : typeof item}` }];
  }
  const fields = item as Record<string, unknown>;
  const problems: RecordProblem[] = [];
  const result = preferenceRecordSchema.safeParse(item);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const field = issue.path.join('.');
      problems.push({ field, message: fields[field] === undefined ? 'missing field' : issue.message });
    }
  }
  const text = (key: 'chosen' | 'rejected') => (typeof fields[key] === 'string' ? (fields[key] as string).trim() : undefined);
  const [chosen, rejected] = [text('chosen'), text('rejected')];
  if (chosen === '') problems.push({ field: 'chosen', message: 'is empty' });
  if (rejected === '') problems.push({ field: 'rejected', message: 'is empty' });
  if (chosen && chosen === rejected) {
    problems.push({ message: 'chosen and rejected are the same text; a pair needs two different answers' });
  }
  return problems;
}

/** A record's raw value and the line it starts on; `parseError` when its JSON Lines line did not parse. */
interface Located {
  line: number;
  value?: unknown;
  parseError?: string;
}

function validate(items: Located[], file: string): PreferenceRecord[] {
  const issues: PreferenceIssue[] = [];
  const records: PreferenceRecord[] = [];
  items.forEach(({ value, line, parseError }, index) => {
    const problems = parseError !== undefined ? [{ message: `not valid JSON: ${parseError}` }] : recordProblems(value);
    if (problems.length > 0) issues.push(...problems.map((p) => ({ line, index, ...p })));
    else records.push(preferenceRecordSchema.parse(value));
  });
  if (issues.length > 0) throw new PreferenceDataError(file, issues);
  return records;
}

/**
 * 1-based line of each top-level element of a JSON array. Only called on text JSON.parse
 * accepted, so a scan that tracks strings and nesting depth is exact.
 */
function arrayElementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let expectElement = false;
  for (const c of text) {
    if (c === '\n') line++;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') continue;
    if (c === ']' || c === '}') {
      depth--;
      continue;
    }
    if (depth === 1 && expectElement) {
      lines.push(line);
      expectElement = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (c === ',' && depth === 1) expectElement = true;
  }
  return lines;
}

const stripBom = (text: string) => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/** Validates the text of a JSON file holding an array of preference records; `file` names it in messages. */
export function parsePreferenceJson(text: string, file = 'preference data'): PreferenceRecord[] {
  const clean = stripBom(text);
  let json: unknown;
  try {
    json = JSON.parse(clean);
  } catch (cause) {
    throw new Error(`${file} is not valid JSON: ${(cause as Error).message}; JSON Lines files (one record per line) go to loadPreferenceJsonl`, { cause });
  }
  if (!Array.isArray(json)) {
    throw new Error(`${file}: expected a JSON array of preference records ({prompt, chosen, rejected, image?}), got ${json === null ? 'null' : typeof json}`);
  }
  const lines = arrayElementLines(clean);
  return validate(json.map((value, i) => ({ value, line: lines[i] ?? 1 })), file);
}

/** Validates JSON Lines text: one record per line, blank lines skipped; `file` names it in messages. */
export function parsePreferenceJsonl(text: string, file = 'preference data'): PreferenceRecord[] {
  const items: Located[] = [];
  stripBom(text)
    .split('\n')
    .forEach((raw, i) => {
      if (raw.trim() === '') return;
      try {
        items.push({ value: JSON.parse(raw), line: i + 1 });
      } catch (cause) {
        items.push({ parseError: (cause as Error).message, line: i + 1 }); // reported with the others, not thrown alone
      }
    });
  return validate(items, file);
}

async function read(path: string, caller: string): Promise<string> {
  try {
    // a regular file only: a FIFO would block the read for ever (see openRegularFile)
    return (await readRegularFile(path, { what: 'preference file' })).toString('utf8');
  } catch (cause) {
    if (cause instanceof NotRegularFileError) throw new Error(`${caller}: ${cause.message}`, { cause });
    throw new Error(`${caller}: cannot read ${path}; check the path`, { cause });
  }
}

/** Reads a JSON file holding an array of `{prompt, chosen, rejected, image?}`; throws PreferenceDataError listing every bad record. */
export async function loadPreferenceJson(path: string): Promise<PreferenceRecord[]> {
  return parsePreferenceJson(await read(path, 'loadPreferenceJson'), path);
}

/** Reads a JSON Lines file, one `{prompt, chosen, rejected, image?}` per line; throws PreferenceDataError listing every bad record. */
export async function loadPreferenceJsonl(path: string): Promise<PreferenceRecord[]> {
  return parsePreferenceJsonl(await read(path, 'loadPreferenceJsonl'), path);
}
