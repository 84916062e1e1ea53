import { TokenizerFileError, readFailure } from './tokenizer-file-error';

const NAMES = ['tokenizer.json', 'tokenizer_config.json'] as const;

/** Writes a tokenizer's files into dir (created if missing). */
export async function writeTokenizerFolder(dir: string, files: Record<string, string>): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
}

/**
 * Reads tokenizer.json and tokenizer_config.json from dir and builds a tokenizer with `fromFiles`;
 * a missing file, or one fromFiles refuses (its TokenizerFileError names the file only), is
 * reported with its path and what to do.
 */
export async function readTokenizerFolder<T>(dir: string, fromFiles: (files: Record<string, string>) => T): Promise<T> {
  const { readTextFile } = await import('./read-text-file');
  const { join } = await import('node:path');
  const files: Record<string, string> = {};
  for (const name of NAMES) {
    const path = join(dir, name);
    try {
      files[name] = await readTextFile(path);
    } catch (cause) {
      throw new TokenizerFileError(path, `${readFailure(cause)}; a run folder gets it from mllm run (tokenizer.save(dir) in code)`, { cause });
    }
  }
  try {
    return fromFiles(files);
  } catch (e) {
    if (!(e instanceof TokenizerFileError)) throw e;
    // fromFiles names the file only; the folder is known here
    throw new TokenizerFileError(join(dir, e.file), `${e.reason}; the file is damaged: copy it again from where the run was trained, or train again`, { cause: e });
  }
}
