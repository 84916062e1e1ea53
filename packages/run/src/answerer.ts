import type { Answerer } from '@mllm/eval';
import type { ShapesWorld } from '@mllm/data';
import type { GenerateOptions, GenerationEvent } from '@mllm/llm';
import type { MultimodalModel } from '@mllm/model';
import { applyChatTemplate, type WordTokenizer } from '@mllm/tokenizer';

/** Greedy single-turn answers from the model: "<image>\n<prompt>" in the chat template, stop at end-of-turn. */
export function modelAnswerer(model: MultimodalModel, tokenizer: WordTokenizer, world: ShapesWorld, maxNewTokens: number): Answerer {
  return {
    async answer(requests) {
      const prompts = requests.map((r) => {
        const { ids } = applyChatTemplate(tokenizer, [{ from: 'human', value: `<image>\n${r.prompt}` }], { addGenerationPrompt: true });
        return { ids, lossMask: ids.map(() => 0), images: [world.image(r.sceneId)] };
      });
      const outputs = model.generate(prompts, { maxNewTokens, stopTokens: [tokenizer.special.end, tokenizer.special.eos] });
      return outputs.map((ids) => tokenizer.decode(ids));
    },
  };
}

/** Answers one prompt about an arbitrary image (pixels already at the encoder's size). */
export function answerImage(model: MultimodalModel, tokenizer: WordTokenizer, image: Float32Array, prompt: string, maxNewTokens: number): string {
  const { ids } = applyChatTemplate(tokenizer, [{ from: 'human', value: `<image>\n${prompt}` }], { addGenerationPrompt: true });
  const [out] = model.generate([{ ids, lossMask: ids.map(() => 0), images: [image] }], {
    maxNewTokens,
    stopTokens: [tokenizer.special.end, tokenizer.special.eos],
  });
  return tokenizer.decode(out!);
}

/**
 * One prompt about an image, streamed: each token's text as it is made (stop strings held back
 * until they are ruled out), ending at end-of-turn.
 */
export function streamAnswer(
  model: MultimodalModel,
  tokenizer: WordTokenizer,
  image: Float32Array,
  prompt: string,
  options: Omit<GenerateOptions, 'decode' | 'stopTokens'>,
): AsyncGenerator<GenerationEvent, void, undefined> {
  const { ids } = applyChatTemplate(tokenizer, [{ from: 'human', value: `<image>\n${prompt}` }], { addGenerationPrompt: true });
  return model.generateStream([{ ids, lossMask: ids.map(() => 0), images: [image] }], {
    ...options,
    stopTokens: [tokenizer.special.end, tokenizer.special.eos],
    decode: (out) => tokenizer.decode(out),
  });
}
