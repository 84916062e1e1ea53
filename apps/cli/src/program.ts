import { Command } from 'commander';
import { MllmError } from '@mllm/core';
import { chatCommand } from './commands/chat';
import { exportCommand, forwardCommand } from './commands/deploy';
import { evalCommand } from './commands/evaluate';
import { hfStandinCommand } from './commands/hf-standin';
import { lintDataCommand } from './commands/lint-data';
import { sceneCommand } from './commands/scene';
import { schemaCommand } from './commands/schema';
import { runCommand, sweepCommand } from './commands/train';
import { BACKEND_HELP } from './help';
import type { CommandContext } from './output';
import { cliVersion } from './version';

const OVERVIEW_AFTER = `
Start here:
  $ npm start                                               (or: mllm run configs/default.json --out runs/default)
  $ mllm scene --out scene.png                              a Shapes image and its ground truth
  $ mllm chat --checkpoint runs/default --image scene.png   ask the trained model about it

mllm <command> --help shows a command's options and examples.
--backend: ${BACKEND_HELP}.
`;

/**
 * The `mllm` command tree. Commander never ends the process: errors and `--help` /
 * `--version` come back to `main` as exceptions (exitOverride), and everything is written
 * through process.stdout / process.stderr at the time of writing, so tests can capture it.
 */
export function createProgram(context: CommandContext): Command {
  const program = new Command('mllm')
    .description('build, train, evaluate and chat with multimodal LLMs')
    .usage('<command> [options]')
    .version(cliVersion(), '-v, --version', 'print the version of mllm')
    .helpOption('-h, --help', 'show help (mllm <command> --help for one command)')
    // read by main from argv (an error can come before commander has parsed it); declared here so
    // commander accepts it before or after the command and --help lists it
    .option('--debug', 'print the stack of an error below its message (or set MLLM_DEBUG=1)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    })
    .showHelpAfterError('(mllm --help lists the commands)')
    .addHelpText('after', OVERVIEW_AFTER);
  // set before the subcommands are added, so they inherit exitOverride and the output settings
  const commands = [
    runCommand(),
    sweepCommand(),
    evalCommand(),
    chatCommand(context),
    sceneCommand(),
    exportCommand(),
    forwardCommand(),
    lintDataCommand(context),
    schemaCommand(),
    hfStandinCommand(),
  ];
  for (const command of commands) program.addCommand(command.exitOverride().configureOutput(program.configureOutput()));
  program.on('command:*', (operands: string[]) => {
    throw new MllmError(`unknown command "${operands[0]}"; one of: ${commands.map((c) => c.name()).join(', ')} (mllm --help)`);
  });
  return program;
}
