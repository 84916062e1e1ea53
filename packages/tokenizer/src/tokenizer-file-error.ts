/**
 * A tokenizer file that is missing, unreadable or not a tokenizer; the message names the file
 * and how to get a good one. An Error named by `name` rather than an MllmError: this package
 * does not depend on @mllm/core (which brings tfjs), and callers tell it apart by name, as
 * they do OnnxModelError.
 */
export class TokenizerFileError extends Error {
  constructor(
    /** The file, as the caller named it (`runs/x/tokenizer.json`), or just its name when read from memory. */
    readonly file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}`, options);
    this.name = 'TokenizerFileError';
  }
}

/** Why reading a file failed, short: `not found`, `is a folder`, else the OS's words. */
export function readFailure(e: unknown): string {
  const notRegularKind = (e as { notRegularKind?: string }).notRegularKind; // readTextFile's refusal of a folder, FIFO or device
  if (notRegularKind) return `is ${notRegularKind}, a file was expected`;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'not found';
  if (code === 'EISDIR') return 'is a folder, a file was expected';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return `cannot be read (${(e as Error).message})`;
}

/** One JSON object file of an in-memory tokenizer folder; `reader` names the call that needs it, for the message. */
export function parseTokenizerJson(files: Record<string, string>, name: string, reader: string): Record<string, unknown> {
  const text = files[name];
  if (text === undefined) throw new TokenizerFileError(name, `missing; ${reader} needs both tokenizer.json and tokenizer_config.json`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new TokenizerFileError(name, `is not a valid JSON object: ${(cause as Error).message}`, { cause });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TokenizerFileError(name, 'is not a valid JSON object: not a JSON object');
  return json as Record<string, unknown>;
}
