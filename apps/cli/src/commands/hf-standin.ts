import { Command } from 'commander';
import { MllmError } from '@mllm/core';
import { STANDIN_MODELS, writeHfStandin, type WriteStandinOptions } from '@mllm/run';
import { integer, positiveInt } from '../flags';
import { helpHint, withExamples } from '../help';

interface StandinFlags {
  out?: string;
  list?: boolean;
  seed?: string;
  dtype?: string;
  maxShardMb?: string;
  force?: boolean;
}

const DTYPES: Record<string, NonNullable<WriteStandinOptions['dtype']>> = { bf16: 'BF16', f32: 'F32' };

/** `mllm hf-standin`: an HF folder shaped like a released checkpoint, with random weights. */
export function hfStandinCommand(): Command {
  const command = new Command('hf-standin')
    .description('write an HF model folder with the exact files and shapes of a released checkpoint (SmolLM2, SigLIP, CLIP) and seeded random weights, to try "from": "hf:DIR" at full size without downloading')
    .argument('[name]', 'which checkpoint (mllm hf-standin --list)')
    .option('--out <dir>', 'folder to write (must be empty unless --force)')
    .option('--list', 'list the checkpoints it can stand in for')
    .option('--seed <n>', 'seed of the random weights (default: 0)')
    .option('--dtype <bf16|f32>', "weights dtype (default: the released files': bf16 for SmolLM2, f32 for CLIP and SigLIP)")
    .option('--max-shard-mb <n>', 'split the weights into shards of at most this many MB with model.safetensors.index.json (default: 5000, single files as released)')
    .option('--force', 'write into a folder that already has files')
    .action(async (name: string | undefined, flags: StandinFlags) => {
      if (flags.list || !name) {
        if (!flags.list) throw new MllmError('mllm hf-standin needs a checkpoint name and --out DIR, e.g. mllm hf-standin smollm2-135m-instruct --out models/smollm2-135m-instruct (--list shows the names)');
        const width = Math.max(...STANDIN_MODELS.map((m) => m.name.length));
        process.stdout.write(`${STANDIN_MODELS.map((m) => `${m.name.padEnd(width)}  ${m.repo}: ${m.description}`).join('\n')}\n`);
        return;
      }
      if (!flags.out) throw new MllmError(`mllm hf-standin needs --out DIR: mllm hf-standin ${name} --out models/${name}`);
      const dtype = flags.dtype === undefined ? undefined : DTYPES[flags.dtype];
      if (flags.dtype !== undefined && !dtype) throw new MllmError(`--dtype must be bf16 or f32, got ${flags.dtype}`);
      const shardMb = positiveInt('--max-shard-mb', flags.maxShardMb);
      const written = await writeHfStandin(name, flags.out, {
        seed: integer('--seed', flags.seed) ?? 0,
        ...(dtype && { dtype }),
        ...(shardMb !== undefined && { maxShardBytes: shardMb * 1e6 }),
        force: flags.force === true,
      });
      const bytes = written.files.reduce((n, f) => n + f.bytes, 0);
      process.stdout.write(
        [
          `${written.dir}: stand-in for ${written.model.repo} (random weights), ${(written.parameters / 1e6).toFixed(1)}M parameters, ${(bytes / 1e6).toFixed(1)} MB`,
          ...written.files.map((f) => `  ${f.name}  ${(f.bytes / 1e6).toFixed(f.bytes < 1e6 ? 3 : 1)} MB`),
          `use it in a config: "${written.model.kind === 'llm' ? 'llm": { "type": "causal"' : 'encoder": { "type": "vit"'}, "from": "hf:${flags.out}" }`,
          '',
        ].join('\n'),
      );
    });
  return withExamples(helpHint(command), [
    ['mllm hf-standin --list', 'the checkpoints it can stand in for'],
    ['mllm hf-standin smollm2-135m-instruct --out models/smollm2-135m-instruct', 'SmolLM2-135M-Instruct: config, tokenizer, 269 MB of bf16 weights'],
    ['mllm hf-standin siglip-base-patch16-224 --out models/siglip-base-patch16-224', 'then "encoder": { "type": "vit", "from": "hf:models/siglip-base-patch16-224" }'],
  ]);
}
