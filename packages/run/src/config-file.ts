import { relative } from 'node:path';
import { MllmError, NotRegularFileError } from '@mllm/core';
import { readRegularFile } from '@mllm/core/internal';

/** A file's path as a person would type it: relative to the working directory when that is shorter. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && rel.length < file.length ? rel : file;
}

/**
 * Line and column (1-based) of a character offset, for JSON errors: Node 20's JSON.parse names
 * only the offset ("at position 14"), which a person cannot find in a file.
 */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** JSON.parse's message with the line and column of the offending character. */
function jsonErrorMessage(text: string, error: Error): string {
  const message = error.message;
  if (/line \d+/.test(message)) return message; // newer V8 says the line itself
  const at = /at position (\d+)/.exec(message);
  if (!at) return message;
  const { line, column } = lineAndColumn(text, Number(at[1]));
  return `${message.replace(/ in JSON at position \d+.*$/, '')} at line ${line} column ${column}`;
}

/** Why a file could not be read, as a reason a person can act on. */
export class ConfigFileError extends MllmError {
  constructor(
    readonly file: string,
    readonly reason: 'missing' | 'unreadable' | 'invalid-json',
    detail: string,
  ) {
    super(detail);
  }
}

/** One JSON file as written (no `extends` resolved); a missing, unreadable or malformed file is a ConfigFileError naming it. */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    // a regular file only: a FIFO given as --config would block the read for ever
    text = (await readRegularFile(file, { what: 'config' })).toString('utf8');
  } catch (e) {
    if (e instanceof NotRegularFileError) throw new ConfigFileError(file, 'unreadable', `config ${displayPath(file)} is ${e.kind}, not a regular file; pass a JSON config file`);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigFileError(file, 'missing', `config ${displayPath(file)} not found`);
    throw new ConfigFileError(file, 'unreadable', `cannot read config ${displayPath(file)}: ${code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigFileError(file, 'invalid-json', `config ${displayPath(file)} is not valid JSON: ${jsonErrorMessage(text, e as Error)}`);
  }
}
