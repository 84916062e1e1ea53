import { CELLS, COLORS, SHAPES, SIZES } from './scene';
import type { Cell, Color, SceneObject, Shape, Size } from './scene';
import { RELATIONS, holds, type Relation } from './language';

/**
 * What the vision tools of LLM-aided reasoning (GPT4Tools, LLaVA-Plus) answer about a list of
 * objects, and the text their answers are written in. One implementation serves both sides:
 * the tools apply it to what a trained detector sees, the tool-use traces to the ground truth,
 * so a finetuned controller reads at test time exactly the kind of text it was trained on.
 *
 * Call syntax (one call per controller turn, words separated by single spaces):
 *
 *   call detect [<colour>] [<shape>]                 -> result <size colour shape at the cell> , ... | result nothing
 *   call count [<colour>] [<shape>]                  -> result <digit>
 *   call compare <colour> <shape> <relation> <colour> <shape>  -> result true | result false
 *
 * A reply that does not start with `call` is the controller's final answer.
 */

/** An object as a detector reports it: what and where, no pixel coordinates. */
export interface DetectedObject {
  shape: Shape;
  color: Color;
  size: Size;
  cell: Cell;
}

/** An optional colour and/or shape that selects objects ("red", "circle", "red circle", nothing: all). */
export interface ObjectFilter {
  color?: Color;
  shape?: Shape;
}

/** The first word of every tool call. */
export const CALL_WORD = 'call';
/** The first word of every tool result the session replies with. */
export const RESULT_WORD = 'result';
/** The first word of the reply to a call that could not run. */
export const ERROR_WORD = 'error';

export const TOOL_NAMES = ['detect', 'count', 'compare'] as const;

export function matches(o: DetectedObject, filter: ObjectFilter): boolean {
  return (filter.color === undefined || o.color === filter.color) && (filter.shape === undefined || o.shape === filter.shape);
}

/** "large red circle at the top left , small blue square at the bottom right" or "nothing". */
export function renderDetections(objects: readonly DetectedObject[]): string {
  if (objects.length === 0) return 'nothing';
  const sorted = [...objects].sort((a, b) => CELLS.indexOf(a.cell) - CELLS.indexOf(b.cell));
  return sorted.map((o) => `${o.size} ${o.color} ${o.shape} at the ${o.cell}`).join(' , ');
}

export function detectObjects(objects: readonly DetectedObject[], filter: ObjectFilter): DetectedObject[] {
  return objects.filter((o) => matches(o, filter));
}

/** The count as a digit: the controller's refiner turns "2" into "two". */
export function countObjects(objects: readonly DetectedObject[], filter: ObjectFilter): string {
  return String(objects.filter((o) => matches(o, filter)).length);
}

/**
 * Whether `a relation b` holds between the two named objects, as "true" / "false"; an object
 * that is not there (or not alone of its kind) is an error the controller can read.
 */
export function compareObjects(objects: readonly DetectedObject[], a: Required<ObjectFilter>, relation: Relation, b: Required<ObjectFilter>): { ok: true; text: string } | { ok: false; text: string } {
  const find = (f: Required<ObjectFilter>) => objects.filter((o) => matches(o, f));
  const [as, bs] = [find(a), find(b)];
  for (const [f, found] of [[a, as], [b, bs]] as const) {
    if (found.length === 0) return { ok: false, text: `no ${f.color} ${f.shape} found` };
    if (found.length > 1) return { ok: false, text: `${found.length} ${f.color} ${f.shape} found , name one object` };
  }
  const at = (o: DetectedObject): SceneObject => ({ ...o, x: 0, y: 0 });
  return { ok: true, text: holds(at(as[0]!), relation, at(bs[0]!)) ? 'true' : 'false' };
}

/** Every word tool calls, results and errors use, for a tokenizer's corpus. */
export function toolWords(): string[] {
  return [
    `${CALL_WORD} ${RESULT_WORD} ${ERROR_WORD} ${TOOL_NAMES.join(' ')} true false nothing found name one object , .`,
    `${COLORS.join(' ')} ${SHAPES.join(' ')} ${SIZES.join(' ')} at the ${CELLS.join(' ')}`,
    RELATIONS.join(' '),
    '0 1 2 3 4 5 6 7 8 9',
    'unknown tool tools are needs arguments got unreadable call write nothing after',
  ];
}
