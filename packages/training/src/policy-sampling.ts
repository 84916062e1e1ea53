import type { Rng } from '@mllm/core';
import type { MultimodalModel, TokenizedSample } from '@mllm/model';
import { applyChatTemplate } from '@mllm/tokenizer';
import type { StageData } from './stage-data';

/** A human turn as the chat template asks it, with the generation prompt and no trained tokens. */
export function askedSample(data: StageData, prompt: string, image: string): TokenizedSample {
  const { ids } = applyChatTemplate(data.tokenizer, [{ from: 'human', value: prompt }], { addGenerationPrompt: true });
  return { ids, lossMask: ids.map(() => 0), images: [data.world.image(image)] };
}

/** How the policy samples its rollouts (PPO, sampled comparison pairs). */
export interface RolloutOptions {
  maxNewTokens: number;
  temperature: number;
  rng: Rng;
}

/**
 * The policy's answers (token ids, without the stop token) to prompts built by `askedSample`.
 * The model is put in eval mode for the sampling and back in train mode after.
 */
export function sampleAnswers(model: MultimodalModel, data: StageData, asked: TokenizedSample[], options: RolloutOptions): number[][] {
  const { special } = data.tokenizer;
  model.eval();
  try {
    // an answer is text: a sampled image placeholder or role token would break the turn's layout
    const suppressTokens = [special.image, special.pad, special.bos, special.unk, special.user, special.assistant];
    return model.generate(asked, { maxNewTokens: options.maxNewTokens, stopTokens: [special.end, special.eos], temperature: options.temperature, rng: options.rng, suppressTokens });
  } finally {
    model.train();
  }
}
