import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MllmError } from '@mllm/core';
import type { ChatTurn } from '@mllm/tokenizer';
import { trainsToolUse } from '@mllm/training/internal';
import { openRun, type OpenedRun } from '../open-run';
import { DETECTOR_FILE, RegionDetector } from './detector';
import { modelController } from './model-controller';
import { buildToolbox } from './tool-eval';
import { lazyToolImage, runToolSessions, type ToolOutcome } from './tool-session';
import { withDemonstrations } from './training-free-prompt';

/**
 * A multi-turn conversation about one image in which the run's model answers with its vision
 * tools (`mllm chat --tools`). Each question goes through the controller loop with the
 * conversation so far, so the model also decides whether an earlier result already answers it.
 */
export interface ToolChat {
  readonly run: OpenedRun;
  /** How the run's controller learned tool use (training-free chats get the demonstrations before the first question). */
  readonly paradigm: 'finetuned' | 'training-free';
  /** The tools the controller may call, by name. */
  readonly toolNames: string[];
  /** Answers `question` about `image` (pixels from `run.loadImage`), continuing the conversation; the outcome holds the trace. */
  ask(image: Float32Array, question: string): Promise<ToolOutcome>;
  /** Starts a new conversation (a new image, or a clean slate). */
  reset(): void;
  dispose(): void;
}

/** Opens a finished run of a config with `tools` for tool-aided chat; `maxCalls` defaults to the config's. */
export async function openToolChat(dir: string, options: { maxCalls?: number } = {}): Promise<ToolChat> {
  const detectorPath = join(dir, DETECTOR_FILE);
  const run = await openRun(dir);
  try {
    const tools = run.config.tools;
    if (!tools) throw new MllmError(`${dir} was trained without tools (its config has no "tools" section); train a config with tools, e.g. configs/tools.json, to chat with --tools`);
    if (!existsSync(detectorPath)) throw new MllmError(`${detectorPath} is missing: the run did not finish its tool evaluation; run the config again to write it`);
    const toolbox = buildToolbox(tools, run.registry);
    const detector = await RegionDetector.load(run.model, detectorPath, run.config.seed);
    const paradigm = trainsToolUse(run.config.stages) ? 'finetuned' : 'training-free';
    let turns: ChatTurn[] = [];
    return {
      run,
      paradigm,
      toolNames: [...toolbox.keys()],
      async ask(image, question) {
        const first = turns.length === 0 && paradigm === 'training-free' ? withDemonstrations(question) : question;
        const controller = modelController(run.model, run.tokenizer, [image], { batchSize: 1 });
        const toolImage = lazyToolImage(() => detector.detect([image])[0]!);
        const [outcome] = await runToolSessions(controller, toolbox, [toolImage], [{ imageIndex: 0, history: turns, question: first }], { maxCalls: options.maxCalls ?? tools.maxCalls });
        // every reply (a call cut at maxCalls too) is a gpt turn, so the conversation ends ready for the next question
        turns = outcome!.turns;
        return outcome!;
      },
      reset: () => {
        turns = [];
      },
      dispose: () => {
        detector.head.dispose();
        run.dispose();
      },
    };
  } catch (e) {
    run.dispose();
    throw e;
  }
}
