import { createInterface } from 'node:readline';
import type { ChatTurn } from '@mllm/tokenizer';
import type { ChatModel } from './chat-backend';
import { describeError } from './describe-error';

const COMMANDS = `commands:
  /image FILE   ask about another image (and start a new conversation)
  /reset        forget the conversation so far, keep the image
  /help         this list
  /quit         leave (so does Ctrl-D)
Anything else is a question about the image; earlier questions and answers stay in the conversation.
`;

/** The warning for words a prompt uses that the vocabulary lacks, or undefined when it has them all. */
export function unknownWordsWarning(words: readonly string[]): string | undefined {
  if (words.length === 0) return undefined;
  return (
    `warning: the model's vocabulary lacks ${words.map((w) => JSON.stringify(w)).join(', ')}; ${words.length === 1 ? 'it is' : 'they are'} read as <unk>. ` +
    'Ask with the words it was trained on: a Shapes model knows lower-case questions such as "is there a red circle in the image ?" (mllm scene prints more)'
  );
}

export interface ChatSessionOptions {
  model: ChatModel;
  /** The first image: its file (for messages) and pixels. */
  image: { file: string; pixels: Float32Array };
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

/**
 * `mllm chat` without `--prompt`: reads questions line by line and streams each answer. The
 * model stays loaded; each question is answered with the conversation so far (the chat
 * template over every earlier turn, the image in the first). Bad input (an unreadable
 * `/image`, a conversation too long for an ONNX export) is reported and the session goes on.
 * Ends at `/quit` or the end of the input (Ctrl-D).
 */
export async function runChatSession(options: ChatSessionOptions): Promise<void> {
  const { model, output } = options;
  const write = (text: string) => void output.write(text);
  const terminal = Boolean((options.input as { isTTY?: boolean }).isTTY && (output as { isTTY?: boolean }).isTTY);
  const lines = createInterface({ input: options.input, output, terminal });
  lines.setPrompt('> ');
  let image = options.image;
  let turns: ChatTurn[] = [];
  /** Runs `step`; a user error is printed and the session goes on, a bug ends it (main prints it). */
  const guarded = async (step: () => Promise<void>) => {
    try {
      await step();
    } catch (e) {
      // described as main would; the session goes on after anything the user can fix
      const report = describeError(e, { argv: ['chat'] });
      if (report.exitCode !== 2) throw e;
      write(`error: ${report.what}\n${report.hint ? `hint: ${report.hint}\n` : ''}`);
    }
  };

  write(`chatting about ${image.file}; /help lists the commands, /quit or Ctrl-D leaves\n`);
  lines.prompt();
  try {
    for await (const raw of lines) {
      const line = raw.trim();
      const [command = ''] = line.split(/\s+/, 1);
      const argument = line.slice(command.length).trim();
      if (command === '/quit' || command === '/exit') break;
      if (line === '') {
        // nothing asked
      } else if (command === '/help') write(COMMANDS);
      else if (command === '/reset') {
        turns = [];
        write(`new conversation about ${image.file}\n`);
      } else if (command === '/image') {
        if (!argument) write('error: /image needs a file, e.g. /image scene.png\n');
        else
          await guarded(async () => {
            image = { file: argument, pixels: await model.loadImage(argument) };
            turns = [];
            write(`new conversation about ${image.file}\n`);
          });
      } else if (command.startsWith('/')) write(`error: unknown command ${command}; /help lists the commands\n`);
      else {
        const warning = unknownWordsWarning(model.unknownWords(line));
        if (warning) write(`${warning}\n`);
        const conversation: ChatTurn[] = [...turns, { from: 'human', value: line }];
        await guarded(async () => {
          const answer = await model.reply(image.pixels, conversation, write);
          turns = [...conversation, { from: 'gpt', value: answer }];
        });
      }
      lines.prompt();
    }
  } finally {
    lines.close();
  }
  write('\n');
}
