import { Command } from 'commander';
import { MllmError } from '@mllm/core';
import { formatLintReport, lintData } from '@mllm/run';
import { positiveInt } from '../flags';
import { BACKEND_HELP, helpHint, withExamples } from '../help';
import { consoleLogger, type CommandContext } from '../output';

interface LintFlags {
  images?: string;
  config?: string;
  maxLength?: string;
  show?: string;
  backend?: string;
}

/** `mllm lint-data`: checks a LLaVA-format file before training on it; exit 1 when it finds problems. */
export function lintDataCommand(context: CommandContext): Command {
  const command = new Command('lint-data')
    .description('check a LLaVA-format data file (records, images, lengths) before training on it; exit 1 on problems')
    .argument('[file]', 'data file: a JSON array or JSON lines')
    .option('--images <dir>', "folder image paths are relative to (default: the file's folder)")
    .option('--config <file>', 'run config: count tokens after image expansion as that model sees them')
    .option('--max-length <n>', 'flag samples longer than this many tokens')
    .option('--show <n>', 'print the first n samples as the model reads them, trained tokens marked [[ ]]')
    .option('--backend <name>', BACKEND_HELP)
    .action(async (file: string | undefined, flags: LintFlags) => {
      if (!file) throw new MllmError('mllm lint-data needs a data file: mllm lint-data data.jsonl --images DIR [--config configs/default.json]');
      const show = flags.show === undefined ? undefined : Number(flags.show);
      if (show !== undefined && !(Number.isInteger(show) && show >= 0)) throw new MllmError(`--show must be an integer >= 0, got ${flags.show}`);
      const report = await lintData(file, {
        imageDir: flags.images,
        configPath: flags.config,
        maxLength: positiveInt('--max-length', flags.maxLength),
        show,
        backend: flags.backend,
        logger: consoleLogger,
      });
      process.stdout.write(`${formatLintReport(report)}\n`);
      if (report.problems > 0) context.setExitCode(1);
    });
  return withExamples(helpHint(command), [
    ['mllm lint-data data/train.jsonl --images data/images', 'every record and image checked; problems listed as file:line'],
    ['mllm lint-data data/train.jsonl --config configs/default.json --max-length 256 --show 2', 'token counts as the default model sees them, and two samples'],
  ]);
}
