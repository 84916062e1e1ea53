import type { Logger } from '@mllm/core';

/** Library log lines go to stderr, so stdout holds only results (a chat answer, a summary table). */
export const consoleLogger: Logger = {
  info: (m) => process.stderr.write(`${m}\n`),
  warn: (m) => process.stderr.write(`warning: ${m}\n`),
};

/** Where a command reads a conversation and writes it: the terminal, or streams a test injects. */
export interface CliStreams {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

/** What every command is registered with. */
export interface CommandContext {
  streams: CliStreams;
  /** Sets the exit code `main` returns when the command ends without an error (default 0). */
  setExitCode(code: number): void;
}
