import { Command } from 'commander';
import { MllmError, initBackend } from '@mllm/core';
import { onnxChatModel, tfjsChatModel, type ChatModel } from '../chat-backend';
import { runChatSession, unknownWordsWarning } from '../chat-session';
import { positiveInt, repeatable } from '../flags';
import { parseDemoFlag } from '../demo-flag';
import { generationOptionsFromFlags, mitigationFlags, withMitigationFlags, type MitigationFlags } from '../generation-flags';
import { BACKEND_HELP, helpHint, withExamples } from '../help';
import type { CommandContext } from '../output';
import { runtimeOf } from './evaluate';
import { runToolChat } from './chat-tools';
import { consoleLogger } from '../output';

interface ChatFlags extends MitigationFlags {
  checkpoint?: string;
  runtime?: string;
  model?: string;
  image?: string;
  prompt?: string;
  maxNewTokens?: string;
  temperature?: string;
  topK?: string;
  topP?: string;
  repetitionPenalty?: string;
  seed?: string;
  stop?: string[];
  demo?: string[];
  threads?: string;
  backend?: string;
  tools?: boolean;
  correct?: boolean;
}

const ASK = 'add --prompt "what color is the circle ?" for one answer, or leave it out to chat';
const NEEDS = `mllm chat needs --checkpoint DIR (a finished run folder) and --image FILE.png; ${ASK}`;
const NEEDS_ONNX = `mllm chat --runtime onnx needs --model DIR (a folder written by mllm export) and --image FILE.png; ${ASK}`;

/** `mllm chat`: one answer with --prompt, else a conversation that keeps the model loaded. */
export function chatCommand(context: CommandContext): Command {
  const command = new Command('chat')
    .description('ask a trained model about an image: one answer with --prompt, else a conversation (the model stays loaded)')
    .option('--checkpoint <dir>', 'a finished run folder (tfjs runtime)')
    .option('--runtime <name>', 'tfjs (default) or onnx')
    .option('--model <dir>', 'a folder written by mllm export (onnx runtime)')
    .option('--image <file>', 'the image to ask about (PNG, JPEG, WebP, ...; mllm scene makes one)')
    .option('--prompt <text>', 'answer this one question and exit')
    .option('--max-new-tokens <n>', 'longest answer in tokens (default: 40)')
    .option('--temperature <t>', 'sample at this temperature (default: greedy)')
    .option('--top-k <k>', 'sample from the k most likely tokens (with --temperature)')
    .option('--top-p <p>', 'sample from the smallest set of tokens with probability p (with --temperature)')
    .option('--repetition-penalty <r>', 'divide the logits of tokens already in the text by r')
    .option('--seed <n>', 'sampling seed (default: 0, so a chat repeats)')
    .option('--stop <text>', 'end the answer where this text appears (repeatable)', repeatable)
    .option('--demo <spec>', 'a solved example shown before every question: image=FILE,q=QUESTION,a=ANSWER (repeatable, shown in order; few-shot)', repeatable)
    .option('--threads <n>', 'onnxruntime threads (onnx runtime)')
    .option('--backend <name>', BACKEND_HELP)
    .option('--tools', 'answer with the run\'s vision tools (a run of a config with "tools"), printing the controller\'s trace')
    .option('--correct', 'follow each answer with its Woodpecker post-correction: what the run\'s region detector sees, the corrected answer and the claims behind each edit')
    .action(async (flags: ChatFlags) => {
      const runtime = runtimeOf(flags.runtime);
      const decoding = generationOptionsFromFlags(
        {
          'max-new-tokens': flags.maxNewTokens,
          temperature: flags.temperature,
          'top-k': flags.topK,
          'top-p': flags.topP,
          'repetition-penalty': flags.repetitionPenalty,
          seed: flags.seed,
          stop: flags.stop,
          ...mitigationFlags(flags),
        },
        { maxNewTokens: 40 },
      );
      if (runtime === 'onnx' && (decoding.contrastive || decoding.imageAttention))
        throw new MllmError('--vcd and --pai change how the model attends and which logits it contrasts, which the exported ONNX graph does not do; chat with --checkpoint (tfjs runtime) for them');
      const threads = positiveInt('--threads', flags.threads);
      if (runtime === 'onnx' && (!flags.model || !flags.image)) throw new MllmError(NEEDS_ONNX);
      if (runtime === 'tfjs' && (!flags.checkpoint || !flags.image)) throw new MllmError(NEEDS);
      const file = flags.image!;
      if (flags.correct && runtime === 'onnx') throw new MllmError('--correct asks the run\'s region detector, which reads the encoder inside a run folder; chat with --checkpoint DIR (tfjs runtime) for it');
      if (flags.correct && flags.tools) throw new MllmError('--correct and --tools are two ways to ground an answer in the detector; choose one');
      if (flags.tools) {
        if (runtime !== 'tfjs') throw new MllmError('mllm chat --tools runs on the tfjs runtime: pass --checkpoint DIR instead of --runtime onnx');
        await initBackend({ backend: flags.backend, logger: consoleLogger });
        const input = context.streams.input ?? process.stdin;
        return runToolChat({ checkpoint: flags.checkpoint!, image: file, prompt: flags.prompt, input, output: context.streams.output ?? process.stdout });
      }
      const demos = (flags.demo ?? []).map(parseDemoFlag);
      const model: ChatModel = runtime === 'onnx' ? await onnxChatModel(flags.model!, decoding, threads) : await tfjsChatModel(flags.checkpoint!, decoding, flags.backend, flags.correct);
      try {
        const image = { file, pixels: await model.loadImage(file) };
        model.demonstrate(await Promise.all(demos.map(async (d) => ({ ...d, image: await model.loadImage(d.image) }))));
        const demoText = demos.map((d) => `${d.question} ${d.answer}`).join(' ');
        if (demoText) {
          const warning = unknownWordsWarning(model.unknownWords(demoText));
          if (warning) process.stderr.write(`${warning}\n`);
        }
        if (flags.prompt !== undefined) {
          const warning = unknownWordsWarning(model.unknownWords(flags.prompt));
          if (warning) process.stderr.write(`${warning}\n`);
          await model.reply(image.pixels, flags.prompt, (text) => process.stdout.write(text));
        } else {
          await runChatSession({ model, image, input: context.streams.input ?? process.stdin, output: context.streams.output ?? process.stdout });
        }
      } finally {
        await model.close();
      }
    });
  return withExamples(helpHint(withMitigationFlags(command)), [
    ['mllm chat --checkpoint runs/default --image scene.png', 'a conversation about scene.png (mllm scene --out scene.png makes one); /help inside lists commands'],
    ['mllm chat --checkpoint runs/default --image scene.png --prompt "what color is the circle ?"', 'one answer, printed as it is generated'],
    ['mllm chat --checkpoint runs/tools --image scene.png --tools --prompt "is the red circle left of the blue square ?"', 'the answer with its tool calls, a run of configs/tools.json'],
    ['mllm chat --checkpoint runs/icl --image q.png --demo "image=a.png,q=what word goes with the circle ?,a=two" --prompt "what word goes with the circle ?"', 'one answer after a demonstration (few-shot)'],
    ['mllm chat --runtime onnx --model exports/default --image scene.png --temperature 0.7 --seed 1', 'a sampled conversation on onnxruntime, from mllm export'],
    ['mllm chat --checkpoint runs/default --image scene.png --prompt "describe the image in detail ." --vcd 1', 'an answer with visual contrastive decoding against hallucination'],
    ['mllm chat --checkpoint runs/mitigation --image scene.png --prompt "describe the image in detail ." --correct', 'an answer, then its post-correction and the claims behind each edit'],
  ]);
}
