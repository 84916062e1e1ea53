import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { IMAGE_TOKEN, type LlavaSample, type LlavaTurn } from './llava';

export const llavaTurnSchema = z.object({
  from: z.enum(['human', 'gpt', 'system']),
  value: z.string(),
});

const idSchema = z.union([z.string(), z.number()]).transform(String);
const imagePathSchema = z.string().min(1, 'must be a non-empty path');

/** The fields of a LLaVA record; `image` or `images` (several images) or neither (text-only). */
const llavaFields = z.object({
  id: idSchema,
  image: imagePathSchema.optional(),
  images: z.array(imagePathSchema).optional(),
  conversations: z.array(llavaTurnSchema).min(1, 'needs at least one turn'),
});

/** One record of a LLaVA-format dataset file, as published (LLaVA-Instruct, ShareGPT4V, ...). */
export const llavaRecordSchema = llavaFields.refine((r) => r.image === undefined || r.images === undefined, {
  message: 'has both "image" and "images"; give one image as "image" or several as "images", not both',
});

/** A record with exactly one image (the Shapes world's samples; `loadLlavaJson`). */
export const llavaSampleSchema = llavaFields.omit({ images: true }).extend({ image: imagePathSchema });

/** `images` of a parsed record in order: `[image]`, `images`, or `[]` for a text-only sample. */
export function recordImages(record: { image?: string; images?: string[] }): string[] {
  return record.images ?? (record.image !== undefined ? [record.image] : []);
}

/** The first schema problem as `field: message`, e.g. `conversations.0.from: Invalid option ...`. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : '(sample)';
  return `${field}: ${issue.message}`;
}

function countPlaceholders(text: string): number {
  return text.split(IMAGE_TOKEN).length - 1;
}

/**
 * What is wrong with a conversation that the schema cannot see, or undefined: after an optional
 * leading system turn, turns must alternate human, gpt, ... and end with gpt (the answer is what
 * trains), no turn may be empty, `<image>` stands only in human turns, once per image.
 */
export function conversationProblem(conversations: readonly LlavaTurn[], imageCount: number): string | undefined {
  const first = conversations[0]?.from === 'system' ? 1 : 0;
  for (const [i, turn] of conversations.entries()) {
    if (turn.value.trim() === '') return `conversations.${i}.value: is empty; every turn needs text`;
    if (i < first) {
      if (countPlaceholders(turn.value) > 0) return `conversations.${i}.value: has ${IMAGE_TOKEN} in the system turn; images go in human turns`;
      continue;
    }
    const expected = (i - first) % 2 === 0 ? 'human' : 'gpt';
    if (turn.from !== expected)
      return `conversations.${i}.from: is "${turn.from}", expected "${expected}"; turns alternate human, gpt, ... starting with human (after an optional first system turn)`;
    if (turn.from === 'gpt' && countPlaceholders(turn.value) > 0)
      return `conversations.${i}.value: has ${IMAGE_TOKEN} in a gpt turn; images go in human turns`;
  }
  if (conversations.length === first) return 'conversations: has only a system turn; add the human question and the gpt answer';
  if (conversations[conversations.length - 1]!.from !== 'gpt')
    return `conversations: ends with a human turn; end with the gpt answer (the tokens that train)`;
  const placeholders = conversations.reduce((n, t) => n + countPlaceholders(t.value), 0);
  if (placeholders !== imageCount)
    return `conversations: ${placeholders} ${IMAGE_TOKEN} placeholder${placeholders === 1 ? '' : 's'} but ${imageCount} image${imageCount === 1 ? '' : 's'}; put one ${IMAGE_TOKEN} in the human turns per image`;
  return undefined;
}

/**
 * Validates parsed JSON as an array of LLaVA samples with one image each. Throws on the first
 * bad sample with its index and the field path, e.g. `sample 3: conversations.0.from: ...`.
 * `source` names the input in messages (usually the file path).
 */
export function parseLlavaSamples(json: unknown, source = 'LLaVA data'): LlavaSample[] {
  if (!Array.isArray(json)) {
    throw new Error(`${source}: expected a JSON array of LLaVA samples ({id, image, conversations}), got ${typeof json}`);
  }
  return json.map((item, index) => {
    const result = llavaSampleSchema.safeParse(item);
    if (!result.success) throw new Error(`${source}: sample ${index}: ${firstIssue(result.error)}`);
    const problem = conversationProblem(result.data.conversations, 1);
    if (problem) throw new Error(`${source}: sample ${index}: ${problem}`);
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
