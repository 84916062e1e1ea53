import { Command } from 'commander';
import { MllmError } from '@mllm/core';
import { CAPTION_PROMPTS, DETAIL_PROMPT } from '@mllm/data';
import { sceneOptionsOfRun, writeShapesScene, type SceneOptions } from '@mllm/run';
import { integer, positiveInt } from '../flags';
import { helpHint, withExamples } from '../help';

interface SceneFlags {
  out?: string;
  seed?: string;
  size?: string;
  objects?: string;
  checkpoint?: string;
}

/** `mllm scene`: a Shapes-world image and its ground truth, something to chat about. */
export function sceneCommand(): Command {
  const command = new Command('scene')
    .description('render a Shapes-world scene to PNG, with its ground truth beside it (.json), to chat about')
    .option('--out <file.png>', 'PNG to write; the ground truth goes to the same name with .json')
    .option('--seed <n>', 'which scene (default: 0); the same seed gives the same scene')
    .option('--size <px>', 'image side in pixels (default: 32, what the default model sees)')
    .option('--objects <k>', 'number of objects, 1-4 (default: as the world draws it)')
    .option('--checkpoint <dir>', "render as that run's world: its image size and object settings")
    .action(async (flags: SceneFlags) => {
      if (!flags.out) throw new MllmError('mllm scene needs --out FILE.png: mllm scene --out scene.png');
      const size = positiveInt('--size', flags.size);
      const options: SceneOptions = {
        ...(flags.checkpoint ? await sceneOptionsOfRun(flags.checkpoint) : {}),
        ...(size !== undefined && { size }),
        seed: integer('--seed', flags.seed) ?? 0,
        objects: positiveInt('--objects', flags.objects),
      };
      const { pngPath, jsonPath, groundTruth } = await writeShapesScene(flags.out, options);
      const checkpoint = flags.checkpoint ?? 'runs/default';
      const questions = [
        ...groundTruth.questions.map((q) => [q.question, q.answer]),
        [CAPTION_PROMPTS[0], groundTruth.caption],
        [DETAIL_PROMPT, `("description" in ${jsonPath})`],
      ];
      const width = Math.max(...questions.map(([q]) => q!.length));
      process.stdout.write(
        [
          `${pngPath}: ${groundTruth.size}x${groundTruth.size} px, ${groundTruth.caption.replace(/ \.$/, '')}; ground truth in ${jsonPath}`,
          `ask about it: mllm chat --checkpoint ${checkpoint} --image ${pngPath}`,
          'questions a Shapes model is trained on, with the true answers:',
          ...questions.map(([q, a]) => `  ${q!.padEnd(width)}  -> ${a}`),
          '',
        ].join('\n'),
      );
    });
  return withExamples(helpHint(command), [
    ['mllm scene --out scene.png', 'scene 0 at 32 px; then mllm chat --checkpoint runs/default --image scene.png'],
    ['mllm scene --seed 7 --objects 3 --out three.png', 'another scene, with exactly three objects'],
    ['mllm scene --checkpoint runs/highres-tiles --out big.png', "rendered as that run's world (its image size and object scale)"],
  ]);
}
