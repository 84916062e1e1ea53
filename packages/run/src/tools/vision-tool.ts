import { COLORS, RELATIONS, SHAPES, type Color, type DetectedObject, type ObjectFilter, type Relation, type Shape } from '@mllm/data';
import { MllmError } from '@mllm/core';

/**
 * A vision tool of LLM-aided reasoning (the survey's "tool" role, GPT4Tools / LLaVA-Plus): the
 * controller names it after `call`, passes argument words, and reads back one line of text.
 * A tool sees the image only through `ToolImage`, what a trained detector reports, never the
 * scene's ground truth.
 */
export interface VisionTool {
  /** The word after `call` ("count"). */
  readonly name: string;
  /** Its arguments, as an error shows them to the controller: "[<colour>] [<shape>]". */
  readonly usage: string;
  /** The result text for `args`; throws ToolArgumentError when the arguments do not fit `usage`. */
  run(args: readonly string[], image: ToolImage): string;
}

/** The image as tools see it: what the detector found, computed once per image. */
export interface ToolImage {
  objects(): readonly DetectedObject[];
}

/** Arguments a tool cannot use; the session answers the call with this message as an error result. */
export class ToolArgumentError extends MllmError {}

const COLOR_SET: ReadonlySet<string> = new Set(COLORS);
const SHAPE_SET: ReadonlySet<string> = new Set(SHAPES);

/** "red", "circle", "red circle" or nothing; anything else is a ToolArgumentError naming the word. */
export function parseFilter(words: readonly string[], usage: string): ObjectFilter {
  const filter: ObjectFilter = {};
  let i = 0;
  if (i < words.length && COLOR_SET.has(words[i]!)) filter.color = words[i++] as Color;
  if (i < words.length && SHAPE_SET.has(words[i]!)) filter.shape = words[i++] as Shape;
  if (i < words.length) throw new ToolArgumentError(`unreadable ${words[i]} , arguments are ${usage}`);
  return filter;
}

/** "red circle left of blue square" -> the two objects and the relation between them. */
export function parseComparison(words: readonly string[], usage: string): { a: Required<ObjectFilter>; relation: Relation; b: Required<ObjectFilter> } {
  const object = (at: number): Required<ObjectFilter> => {
    const [color, shape] = [words[at], words[at + 1]];
    if (!color || !shape || !COLOR_SET.has(color) || !SHAPE_SET.has(shape)) throw new ToolArgumentError(`needs arguments ${usage} , got ${words.join(' ') || 'nothing'}`);
    return { color: color as Color, shape: shape as Shape };
  };
  const a = object(0);
  const rest = words.slice(2);
  const relation = RELATIONS.find((r) => rest.slice(0, r.split(' ').length).join(' ') === r);
  if (!relation) throw new ToolArgumentError(`needs arguments ${usage} , got ${words.join(' ') || 'nothing'}`);
  const after = rest.slice(relation.split(' ').length);
  if (after.length !== 2) throw new ToolArgumentError(`needs arguments ${usage} , got ${words.join(' ') || 'nothing'}`);
  return { a, relation, b: object(2 + relation.split(' ').length) };
}
