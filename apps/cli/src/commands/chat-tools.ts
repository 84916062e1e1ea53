import { createInterface } from 'node:readline';
import { openToolChat, type ToolOutcome } from '@mllm/run';
import { describeError } from '../describe-error';
import { unknownWordsWarning } from '../chat-session';

/** The width of the role column in a printed trace. */
const ROLE_WIDTH = 20;

/** One outcome's trace, a line per step: "[controller]       call compare red circle left of blue square". */
export function formatTrace(outcome: ToolOutcome): string {
  const lines = outcome.trace.filter((e) => e.role !== 'user').map((e) => `${`[${e.role === 'tool' && e.error ? 'tool error' : e.role}]`.padEnd(ROLE_WIDTH)} ${e.text}`);
  if (outcome.answer === undefined) lines.push(`${'[decision maker]'.padEnd(ROLE_WIDTH)} out of calls , no answer`);
  return `${lines.join('\n')}\n`;
}

export interface ToolChatOptions {
  checkpoint: string;
  image: string;
  prompt?: string;
  maxCalls?: number;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

/**
 * `mllm chat --tools`: each question answered by the run's model as a controller calling its
 * vision tools, the whole trace printed (controller, tool, decision maker, semantics refiner).
 * With a prompt, one question; else questions line by line in one conversation, /reset starts
 * a new one, /quit or the end of the input leaves. A user error is printed and the chat goes on.
 */
export async function runToolChat(options: ToolChatOptions): Promise<void> {
  const write = (text: string) => void options.output.write(text);
  const chat = await openToolChat(options.checkpoint, { ...(options.maxCalls !== undefined && { maxCalls: options.maxCalls }) });
  // a question's words the vocabulary lacks are named before its trace, as plain chat does
  const warn = (question: string, to: (text: string) => void) => {
    const warning = unknownWordsWarning(chat.run.unknownWords(question));
    if (warning) to(`${warning}\n`);
  };
  try {
    const pixels = await chat.run.loadImage(options.image);
    if (options.prompt !== undefined) {
      warn(options.prompt, (text) => process.stderr.write(text));
      write(formatTrace(await chat.ask(pixels, options.prompt)));
      return;
    }
    write(`chatting with tools (${chat.toolNames.join(', ')}; ${chat.paradigm} controller) about ${options.image}; /reset starts over, /quit or Ctrl-D leaves\n`);
    const lines = createInterface({ input: options.input, terminal: false });
    for await (const raw of lines) {
      const line = raw.trim();
      if (line === '/quit' || line === '/exit') break;
      if (line === '/reset') {
        chat.reset();
        write(`new conversation about ${options.image}\n`);
      } else if (line !== '') {
        warn(line, write);
        try {
          write(formatTrace(await chat.ask(pixels, line)));
        } catch (e) {
          const report = describeError(e, { argv: ['chat'] });
          if (report.exitCode !== 2) throw e;
          write(`error: ${report.what}\n`);
        }
      }
    }
  } finally {
    chat.dispose();
  }
}
