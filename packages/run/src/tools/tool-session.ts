import { ERROR_WORD, RESULT_WORD } from '@mllm/data';
import type { ChatTurn } from '@mllm/tokenizer';
import { parseReply } from './call-syntax';
import type { ToolImage, VisionTool } from './vision-tool';

/**
 * The controller loop of LLM-aided visual reasoning. The LLM plays the survey's three roles:
 * controller (its reply plans a tool call), decision maker (after each result it decides to
 * call again or to answer, and in a multi-turn session whether a new question needs a tool at
 * all) and semantics refiner (its answer rewrites the tools' output, "true" / "2", into the
 * reply, "yes" / "two"). A bad call (unknown tool, bad arguments, unparseable) is answered
 * with an error turn the controller reads; nothing a controller writes ends the session.
 */

/** Replies of the LLM to a batch of conversations, each about its image. */
export interface ToolController {
  reply(sessions: readonly { imageIndex: number; turns: readonly ChatTurn[] }[]): Promise<string[]>;
}

export type TraceRole = 'user' | 'controller' | 'tool' | 'decision maker' | 'semantics refiner' | 'answer';

/** One line of a printed trace: who spoke, and what. */
export interface TraceEvent {
  role: TraceRole;
  text: string;
  /** A tool's reply that is an error (unknown tool, bad arguments, unparseable call). */
  error?: boolean;
}

export interface ToolOutcome {
  /** The final answer; undefined when the controller was still calling at maxCalls. */
  answer?: string;
  trace: TraceEvent[];
  /** Calls run (good or bad). */
  calls: number;
  /** Replies that started a call the session could not read. */
  parseFailures: number;
  /** Calls answered with an error (unknown tool, bad arguments, tool failure), parse failures included. */
  errors: number;
  /** The conversation after this question, for the next question of a multi-turn session. */
  turns: ChatTurn[];
}

export interface ToolSessionRequest {
  /** Index into `images`. */
  imageIndex: number;
  /** Earlier turns of the session (human / gpt alternating), empty for a first question. */
  history: readonly ChatTurn[];
  /** The question as the user asked it (put in the first human turn as is: demonstrations, image token). */
  question: string;
}

/** Runs a tool call; any failure, a plugin's bug included, becomes an error result. */
export function runCall(tools: ReadonlyMap<string, VisionTool>, reply: string, image: ToolImage): { text: string; error: boolean; parseFailure: boolean } {
  const parsed = parseReply(reply);
  if (parsed.kind === 'malformed') return { text: `${ERROR_WORD} ${parsed.reason}`, error: true, parseFailure: true };
  if (parsed.kind === 'answer') throw new Error('runCall: the reply is an answer, not a call');
  const tool = tools.get(parsed.tool);
  if (!tool) return { text: `${ERROR_WORD} unknown tool ${parsed.tool} , tools are ${[...tools.keys()].join(' ')}`, error: true, parseFailure: false };
  try {
    return { text: `${RESULT_WORD} ${tool.run(parsed.args, image)}`, error: false, parseFailure: false };
  } catch (e) {
    return { text: `${ERROR_WORD} ${tool.name} ${(e as Error).message}`, error: true, parseFailure: false };
  }
}

/**
 * Answers every request with tools, in lock-step batches: each round asks the controller for
 * the next reply of every unfinished session, runs the calls, and appends the results.
 */
export async function runToolSessions(
  controller: ToolController,
  tools: ReadonlyMap<string, VisionTool>,
  images: readonly ToolImage[],
  requests: readonly ToolSessionRequest[],
  options: { maxCalls: number },
): Promise<ToolOutcome[]> {
  const outcomes: ToolOutcome[] = requests.map((r) => ({
    trace: [{ role: 'user', text: r.question }],
    calls: 0,
    parseFailures: 0,
    errors: 0,
    turns: [...r.history, { from: 'human', value: r.question }],
  }));
  let open = outcomes.map((_, i) => i);
  for (let round = 0; round <= options.maxCalls && open.length > 0; round++) {
    const replies = await controller.reply(open.map((i) => ({ imageIndex: requests[i]!.imageIndex, turns: outcomes[i]!.turns })));
    const still: number[] = [];
    open.forEach((i, k) => {
      const o = outcomes[i]!;
      const reply = replies[k]!.trim();
      const parsed = parseReply(reply);
      o.turns.push({ from: 'gpt', value: reply });
      if (parsed.kind === 'answer') {
        if (o.calls > 0) o.trace.push({ role: 'decision maker', text: 'enough , answer now' }, { role: 'semantics refiner', text: parsed.text });
        else o.trace.push({ role: 'decision maker', text: 'no tool needed' }, { role: 'answer', text: parsed.text });
        o.answer = parsed.text;
        return;
      }
      if (o.calls > 0) o.trace.push({ role: 'decision maker', text: 'call again' });
      o.trace.push({ role: 'controller', text: reply });
      if (round === options.maxCalls) return; // out of calls: no answer
      const result = runCall(tools, reply, images[requests[i]!.imageIndex]!);
      o.calls++;
      if (result.parseFailure) o.parseFailures++;
      if (result.error) o.errors++;
      o.trace.push({ role: 'tool', text: result.text, ...(result.error && { error: true }) });
      o.turns.push({ from: 'human', value: result.text });
      still.push(i);
    });
    open = still;
  }
  return outcomes;
}

/** A tool image that runs `detect` once, when a tool first looks. */
export function lazyToolImage(detect: () => ReturnType<ToolImage['objects']>): ToolImage {
  let seen: ReturnType<ToolImage['objects']> | undefined;
  return { objects: () => (seen ??= detect()) };
}
