import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { LlavaSample } from './llava';

export const llavaTurnSchema = z.object({
  from: z.enum(['human', 'gpt']),
  value: z.string(),
});

export const llavaSampleSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  image: z.string().min(1),
  conversations: z.array(llavaTurnSchema).min(1),
});

/**
 * Validates parsed JSON as an array of LLaVA samples. Throws on the first bad sample with
 * its index and the field path, e.g. `sample 3: conversations.0.from: ...`.
 * `source` names the input in messages (usually the file path).
 */
export function parseLlavaSamples(json: unknown, source = 'LLaVA data'): LlavaSample[] {
  if (!Array.isArray(json)) {
    throw new Error(`${source}: expected a JSON array of LLaVA samples ({id, image, conversations}), got ${typeof json}`);
  }
  return json.map((item, index) => {
    const result = llavaSampleSchema.safeParse(item);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const field = issue.path.length > 0 ? issue.path.join('.') : '(sample)';
      throw new Error(`${source}: sample ${index}: ${field}: ${issue.message}`);
    }
    return result.data;
  });
}

/** Reads a LLaVA-format JSON file (an array of samples) and validates every sample. */
export async function loadLlavaJson(path: string): Promise<LlavaSample[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new Error(`loadLlavaJson: cannot read ${path}; check the path`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new Error(`loadLlavaJson: ${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  return parseLlavaSamples(json, path);
}
