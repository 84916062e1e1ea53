import type { Command } from 'commander';

/** What `--backend` takes, said once for every command that has the flag. */
export const BACKEND_HELP = 'tfjs backend: auto (default), tensorflow-gpu, tensorflow, wasm or cpu (or env MLLM_BACKEND)';

/**
 * Adds real examples under a command's `--help`: the command line, then what it does.
 * Every example is one a user can paste after `npm start` (which trains runs/default).
 */
export function withExamples(command: Command, examples: readonly (readonly [string, string])[]): Command {
  const text = examples.map(([line, what]) => `  $ ${line}\n      ${what}`).join('\n');
  return command.addHelpText('after', `\nExamples:\n${text}\n`);
}

/** Every command points at its own help after a usage error (unknown flag, missing argument). */
export function helpHint(command: Command): Command {
  return command.showHelpAfterError(`(mllm ${command.name()} --help lists its options, with examples)`);
}
