import { readFile } from 'node:fs/promises';
import { MllmError } from '@mllm/core';

/** A run config file as JSON; a missing or malformed file is an MllmError naming the path. */
export async function readConfig(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new MllmError(`cannot read config ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new MllmError(`config ${path} is not valid JSON: ${(e as Error).message}`);
  }
}
