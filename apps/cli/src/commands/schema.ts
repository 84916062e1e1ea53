import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { createRegistry, runConfigJsonSchema } from '@mllm/run';
import { helpHint, withExamples } from '../help';

/** `mllm schema`: the JSON Schema of run configs, for editors to complete and check configs. */
export function schemaCommand(): Command {
  const command = new Command('schema')
    .description('print the JSON Schema of run configs (every built-in component type), or write it to a file')
    .option('--out <file>', 'write the schema here instead of printing it')
    .action(async (flags: { out?: string }) => {
      const text = `${JSON.stringify(runConfigJsonSchema(createRegistry()), null, 2)}\n`;
      if (!flags.out) return void process.stdout.write(text);
      await writeFile(flags.out, text); // an OS error names the path and is explained by main
      process.stdout.write(`JSON Schema of run configs written to ${flags.out}\n`);
    });
  return withExamples(helpHint(command), [
    ['mllm schema --out mllm-config.schema.json', 'then "$schema": "./mllm-config.schema.json" in a config lets an editor complete it'],
  ]);
}
