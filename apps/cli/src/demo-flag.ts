import { MllmError } from '@mllm/core';

/** A `--demo` flag read: the image file, its question and the answer to show. */
export interface DemoFlag {
  image: string;
  question: string;
  answer: string;
}

const FIELDS = { image: 'image', q: 'question', a: 'answer' } as const;
const EXAMPLE = '--demo "image=red.png,q=what word goes with the circle ?,a=one"';

/**
 * Reads `image=FILE,q=QUESTION,a=ANSWER` (fields in any order, each once). A comma splits fields
 * only where the next field's name and "=" follow, so a question or answer may hold commas.
 */
export function parseDemoFlag(spec: string, index: number): DemoFlag {
  const where = `--demo ${index + 1} ("${spec}")`;
  const parts = spec.split(/,(?=\s*(?:image|q|a)=)/);
  const found: Partial<DemoFlag> = {};
  for (const part of parts) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    if (eq < 0 || !(key in FIELDS))
      throw new MllmError(`${where}: "${part}" is not a field; write image=FILE,q=QUESTION,a=ANSWER, e.g. ${EXAMPLE}`);
    const field = FIELDS[key as keyof typeof FIELDS];
    if (found[field] !== undefined) throw new MllmError(`${where}: "${key}=" appears twice; give each of image=, q= and a= once`);
    const value = part.slice(eq + 1).trim();
    if (value === '') throw new MllmError(`${where}: "${key}=" is empty; give it a value, e.g. ${EXAMPLE}`);
    found[field] = value;
  }
  const missing = (Object.keys(FIELDS) as (keyof typeof FIELDS)[]).filter((k) => found[FIELDS[k]] === undefined);
  if (missing.length > 0) throw new MllmError(`${where}: missing ${missing.map((k) => `${k}=`).join(' and ')}; write image=FILE,q=QUESTION,a=ANSWER, e.g. ${EXAMPLE}`);
  return found as DemoFlag;
}
