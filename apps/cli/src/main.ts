import { CommanderError } from 'commander';
import { isUserError } from './errors';
import type { CliStreams } from './output';
import { createProgram } from './program';

/**
 * Entry point of `mllm`; returns the process exit code: 0 done, 2 a mistake the user can fix
 * (printed as `error: ...`, no stack), 1 problems found by `lint-data`. Anything else is a bug
 * and is thrown, stack and all. `streams` replaces stdin / stdout for a chat session (tests).
 */
export async function main(argv: string[], streams: CliStreams = {}): Promise<number> {
  let exitCode = 0;
  const program = createProgram({ streams, setExitCode: (code) => (exitCode = code) });
  if (argv.length === 0) {
    program.outputHelp(); // the overview, as --help prints it; exit 1 as nothing was done
    return 1;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    // commander has printed its own message (usage error) or the help / version it was asked for
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (isUserError(e)) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
