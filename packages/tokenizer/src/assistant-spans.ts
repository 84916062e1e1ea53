/**
 * Where each assistant turn's trained text lies in one render of a chat template.
 *
 * The convention is the one HF transformers computes for `apply_chat_template(...,
 * return_assistant_tokens_mask=True)` and TRL trains with `assistant_only_loss=True`: characters
 * inside a template's `{% generation %}...{% endgeneration %}` block are the assistant's, and a
 * token is trained when its characters overlap such a block (transformers'
 * `tokenization_utils_base.apply_chat_template`: `char_to_token(start)` .. `char_to_token(end - 1)`).
 * Released templates carry no generation blocks; TRL's patched ones (trl/chat_templates/
 * `*_training.jinja`) wrap the assistant's content and its end-of-turn token, e.g. Llama 3's
 * `{% generation %}{{ content | trim + '<|eot_id|>' }}{% endgeneration %}`. Here the block is
 * found without patching the template: each assistant turn's rendered content, then the
 * whitespace and the one special token that close it (`<|eot_id|>`, `<|im_end|>`,
 * `<end_of_turn>`, `</s>`, `<|end|>`), and nothing of the next turn's header. TRL's patched
 * templates differ per family only in whitespace the model never generates (Qwen 2.5's block also
 * holds the newline before the content and after `<|im_end|>`; Gemma's the newline after
 * `<end_of_turn>`); those characters are left untrained here.
 *
 * How the content is found, for any template: the conversation is rendered a second time with
 * every turn's content replaced by a sentinel that no filter changes (`trim`, `strip`, `split`
 * on `</think>`), which gives the template's own text between turns (its headers, default system
 * prompts, a system message merged into a user turn). Walking the real render, that text is
 * matched in order; what lies between is the turn's content as the template rendered it,
 * trimmed, or with its reasoning stripped (Qwen 3 drops `<think>` from earlier turns). Where the
 * template's text around an answer changes with the answer (Qwen 3 writes a reasoning block
 * around the last one), one more render per answer shows what it writes for that answer
 * (foldTurnDependentText). A turn the template renders twice or not at all, or that still
 * cannot be found, is refused with an error that names the turn.
 */

/** A character that the sentinels use and rendered conversations never contain. */
const OPEN = '\uE000';
const CLOSE = '\uE001';
const SENTINEL_RE = new RegExp(`${OPEN}(\\d+)${CLOSE}`, 'g');

/** The content given to turn `i` in the skeleton render. */
export function sentinel(i: number): string {
  return `${OPEN}${i}${CLOSE}`;
}

/** Why a conversation's assistant turns cannot be located in the template's render. */
export class AssistantSpanError extends Error {
  constructor(message: string) {
    super(`chat template: ${message}`);
    this.name = 'AssistantSpanError';
  }
}

export interface SpanInput {
  /** The real render of the conversation. */
  full: string;
  /** The same render with turn i's content replaced by sentinel(i). */
  skeleton: string;
  /** Each turn's content and whether it is the assistant's. */
  turns: readonly { content: string; assistant: boolean }[];
  /** Special tokens of the tokenizer (added tokens marked special): one of them closes a turn. */
  specialTokens: readonly string[];
  /** eos: trained too when only whitespace and it follow the last assistant turn (Phi-3 ends so). */
  eosToken?: string;
  /** Text the template renders for a turn, where known (foldTurnDependentText); tried first. */
  rendered?: ReadonlyMap<number, string>;
}

interface Piece {
  /** Template text before the turn's content (or, for the last piece, after the last content). */
  text: string;
  /** The turn whose content follows, or -1 after the last one. */
  turn: number;
}

function pieces(skeleton: string, turnCount: number): Piece[] {
  const out: Piece[] = [];
  const seen = new Set<number>();
  let at = 0;
  for (const m of skeleton.matchAll(SENTINEL_RE)) {
    const turn = Number(m[1]);
    if (turn >= turnCount) throw new AssistantSpanError(`the template renders text that looks like an internal marker (${JSON.stringify(m[0])})`);
    if (seen.has(turn)) throw new AssistantSpanError(`the template renders turn ${turn}'s text more than once; its loss mask would be ambiguous`);
    seen.add(turn);
    out.push({ text: skeleton.slice(at, m.index), turn });
    at = m.index + m[0].length;
  }
  out.push({ text: skeleton.slice(at), turn: -1 });
  return out;
}

/**
 * The end of the rendered content that starts at `start`, given the template text `next` that
 * must follow it: the content as given or trimmed when `next` follows either (the usual case,
 * and unambiguous even when `next` is short), else the first place `next` occurs.
 */
function contentEnd(full: string, start: number, candidates: readonly string[], next: Piece, isLast: boolean): number | undefined {
  for (const rendered of candidates) {
    const end = start + rendered.length;
    if (!full.startsWith(rendered, start)) continue;
    if (isLast ? end + next.text.length === full.length && full.endsWith(next.text) : full.startsWith(next.text, end)) return end;
  }
  if (isLast) {
    const end = full.length - next.text.length;
    return end >= start && full.endsWith(next.text) ? end : undefined;
  }
  if (next.text === '') return undefined; // two contents with nothing between: only the exact forms above can split them
  const end = full.indexOf(next.text, start);
  return end < 0 ? undefined : end;
}

/** Character spans [start, end) of every assistant turn's trained text in `input.full`, in turn order. */
export function assistantSpans(input: SpanInput): [number, number][] {
  const { full, turns } = input;
  const parts = pieces(input.skeleton, turns.length);
  const where = new Map<number, [number, number]>();
  if (!full.startsWith(parts[0]!.text)) throw new AssistantSpanError('the render does not start with the template text before the first turn; the template changes with the conversation\'s text');
  let cursor = parts[0]!.text.length;
  for (let p = 0; p + 1 < parts.length; p++) {
    const turn = parts[p]!.turn;
    const next = parts[p + 1]!;
    const content = turns[turn]!.content;
    const known = input.rendered?.get(turn);
    const end = contentEnd(full, cursor, [...(known === undefined ? [] : [known]), content, content.trim()], next, next.turn === -1);
    if (end === undefined) {
      throw new AssistantSpanError(
        `cannot find where turn ${turn}'s text ends in the render: the template text that follows it (${JSON.stringify(next.text.slice(0, 60))}) is not there, ` +
          'so the template writes different text around a turn depending on its content (for example a reasoning block in the last assistant turn); remove that from the turn or use a template without it',
      );
    }
    where.set(turn, [cursor, end]);
    cursor = end + next.text.length;
  }
  const specials = [...input.specialTokens].filter((t) => t.length > 0).sort((a, b) => b.length - a.length);
  const spans: [number, number][] = [];
  const lastAssistant = turns.map((t) => t.assistant).lastIndexOf(true);
  turns.forEach((turn, i) => {
    if (!turn.assistant) return;
    const span = where.get(i);
    if (!span) throw new AssistantSpanError(`the template does not render assistant turn ${i}; it cannot be trained`);
    const [start, contentStop] = span;
    let end = closingToken(full, contentStop, specials);
    if (end === undefined) {
      throw new AssistantSpanError(
        `no end-of-turn special token follows assistant turn ${i} (the render goes on ${JSON.stringify(full.slice(contentStop, contentStop + 40))}); ` +
          'the model would never learn to stop: use a template that closes assistant turns with a special token',
      );
    }
    if (i === lastAssistant && input.eosToken) {
      const rest = full.slice(end);
      const trailing = rest.trimStart();
      if (trailing === input.eosToken || trailing.trimEnd() === input.eosToken) end += rest.length - trailing.length + input.eosToken.length;
    }
    spans.push([start, end]);
  });
  return spans;
}

/** The end of the special token that closes a turn at `at`, after optional whitespace; undefined if none does. */
function closingToken(full: string, at: number, specials: readonly string[]): number | undefined {
  let i = at;
  while (i < full.length && /\s/.test(full[i]!)) i++;
  const token = specials.find((t) => full.startsWith(t, i));
  return token === undefined ? undefined : i + token.length;
}

/**
 * The skeleton with the template text that depends on an assistant turn's own text folded into
 * that turn's sentinel, for templates whose text around a turn changes with it (Qwen 3 writes a
 * `<think>` block around the reasoning of the last answer). `alone` holds, per assistant turn,
 * the render with that turn's real text and sentinels elsewhere: what differs from the skeleton
 * is the text the template renders for the turn (widened back to the turn's own text when the
 * render holds it whole, so a leading `<think>` is the turn's, not the template's). Undefined when
 * the differing regions overlap or miss the sentinel.
 */
export function foldTurnDependentText(
  skeleton: string,
  alone: ReadonlyMap<number, string>,
  contents: readonly string[],
): { skeleton: string; rendered: Map<number, string> } | undefined {
  const regions: { turn: number; from: number; to: number }[] = [];
  const rendered = new Map<number, string>();
  for (const [turn, render] of alone) {
    let prefix = 0;
    while (prefix < skeleton.length && prefix < render.length && skeleton[prefix] === render[prefix]) prefix++;
    let suffix = 0;
    const room = Math.min(skeleton.length, render.length) - prefix;
    while (suffix < room && skeleton[skeleton.length - 1 - suffix] === render[render.length - 1 - suffix]) suffix++;
    const end = render.length - suffix;
    for (const own of [contents[turn]!, contents[turn]!.trim()]) {
      const start = end - own.length;
      if (own && start >= 0 && start < prefix && render.slice(start, end) === own) {
        prefix = start;
        break;
      }
    }
    const to = skeleton.length - suffix;
    if (!skeleton.slice(prefix, to).includes(sentinel(turn))) return undefined;
    regions.push({ turn, from: prefix, to });
    rendered.set(turn, render.slice(prefix, end));
  }
  regions.sort((a, b) => a.from - b.from);
  if (regions.some((r, i) => i > 0 && r.from < regions[i - 1]!.to)) return undefined;
  let folded = skeleton;
  for (const r of [...regions].reverse()) folded = folded.slice(0, r.from) + sentinel(r.turn) + folded.slice(r.to);
  return { skeleton: folded, rendered };
}
