import { CALL_WORD } from '@mllm/data';

/**
 * The one syntax a controller writes tool calls in (documented in docs/experiments/tools.md):
 *
 *   call <tool> <argument> <argument> ...
 *
 * lower-case words separated by spaces, one call per reply, nothing before `call` and no
 * punctuation among the arguments. A reply that does not start with `call` and mentions no
 * call is the final answer. Anything else (a bare `call`, a call after other words, a call
 * with punctuation in it, an empty reply) is malformed: the session answers it with an error
 * the controller reads on its next turn.
 */
export type ControllerReply =
  | { kind: 'call'; tool: string; args: string[] }
  | { kind: 'answer'; text: string }
  | { kind: 'malformed'; reason: string };

const PUNCTUATION = /^[.,?!;:()]+$/;

export function parseReply(text: string): ControllerReply {
  const words = text.trim().toLowerCase().split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0) return { kind: 'malformed', reason: 'empty reply , write a call or the answer' };
  const at = words.indexOf(CALL_WORD);
  if (at < 0) return { kind: 'answer', text: words.join(' ') };
  if (at > 0) return { kind: 'malformed', reason: `write the call alone , starting with ${CALL_WORD}` };
  const [, tool, ...args] = words;
  if (tool === undefined) return { kind: 'malformed', reason: `${CALL_WORD} needs a tool name after it` };
  // a trailing full stop is how sentences end in this world: tolerated, not part of the call
  const trimmed = args.at(-1) === '.' ? args.slice(0, -1) : args;
  const stray = [tool, ...trimmed].find((w) => PUNCTUATION.test(w) || w === CALL_WORD);
  if (stray !== undefined) return { kind: 'malformed', reason: `unreadable ${stray} in the call , write one call with words only` };
  return { kind: 'call', tool, args: trimmed };
}

/** The call as the controller's turn writes it. */
export function formatCall(tool: string, args: readonly string[]): string {
  return [CALL_WORD, tool, ...args].join(' ');
}
