import { CommanderError } from 'commander';
import type { CliStreams } from './output';
import { createProgram } from './program';
import { reportError } from './report-error';

/**
 * Entry point of `mllm`; returns the process exit code and never throws:
 * - 0: done;
 * - 1: `lint-data` found problems, or a bug in mllm (`error: internal error: ...`);
 * - 2: a mistake the user can fix: a flag, a path, a file, a config (`error: ...`).
 * Every failure is one `error: <what> (<file or JSON path>)` line and a `hint:` where one helps;
 * `--debug` (or MLLM_DEBUG=1) adds the stack. `streams` replaces stdin / stdout for a chat
 * session (tests).
 */
export async function main(argv: string[], streams: CliStreams = {}): Promise<number> {
  let exitCode = 0;
  try {
    const program = createProgram({ streams, setExitCode: (code) => (exitCode = code) });
    if (argv.every((a) => a === '--debug')) {
      program.outputHelp(); // the overview, as --help prints it; exit 1 as nothing was done
      return 1;
    }
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    // commander has printed its own message (usage error) or the help / version it was asked for
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    return reportError(e, argv);
  }
}
