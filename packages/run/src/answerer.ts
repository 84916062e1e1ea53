import { Rng } from '@mllm/core';
import type { Answerer } from '@mllm/eval';
import type { ShapesWorld } from '@mllm/data';
import type { GenerationEvent } from '@mllm/llm';
import type { MultimodalGenerateOptions, MultimodalModel } from '@mllm/model';
import type { TextTokenizer } from '@mllm/tokenizer';
import type { EvalSampling } from '@mllm/training/internal';
import { type Conversation } from './conversation';
import { fewShotImages, fewShotPromptIds, type FewShotDemonstration } from './few-shot';

// The prompt's turns and ids, re-exported for the modules (and the browser entry) that import them from here.
export { conversationTurns, promptIds, type Conversation } from './conversation';

/**
 * Single-turn answers from the model: "<image>\n<prompt>" in the chat template (after the
 * request's demonstrations, each with its own image), stop at end-of-turn; `decoding` adds
 * in-process mitigation (VCD, PAI) to every answer. Greedy, or sampled under `sampling` (the
 * config's `eval.sampling`) from one seeded stream that runs on across calls, so every batch
 * draws fresh and the whole evaluation repeats from its seed.
 */
export function modelAnswerer(
  model: MultimodalModel,
  tokenizer: TextTokenizer,
  world: ShapesWorld,
  maxNewTokens: number,
  decoding: Pick<MultimodalGenerateOptions, 'contrastive' | 'imageNoise' | 'imageAttention'> = {},
  sampling?: EvalSampling,
): Answerer {
  const sampled = sampling && { temperature: sampling.temperature, topK: sampling.topK, topP: sampling.topP, rng: new Rng(sampling.seed) };
  return {
    async answer(requests) {
      const prompts = requests.map((r) => {
        const demonstrations = (r.demonstrations ?? []).map((d) => ({ image: d.sceneId, question: d.question, answer: d.answer }));
        const ids = fewShotPromptIds(tokenizer, demonstrations, r.prompt);
        return { ids, lossMask: ids.map(() => 0), images: fewShotImages(demonstrations, r.sceneId).map((id) => world.image(id)) };
      });
      const outputs = model.generate(prompts, { ...decoding, ...sampled, maxNewTokens, stopTokens: [tokenizer.special.end, tokenizer.special.eos] });
      return outputs.map((ids) => tokenizer.decode(ids));
    },
  };
}

/**
 * The answer to a prompt or conversation about an image, streamed: each token's text as it is
 * made (stop strings held back until they are ruled out), ending at end-of-turn. Demonstrations,
 * when given, come first, each with its image (a few-shot prompt).
 */
export function streamAnswer(
  model: MultimodalModel,
  tokenizer: TextTokenizer,
  image: Float32Array,
  conversation: Conversation,
  options: Omit<MultimodalGenerateOptions, 'decode' | 'stopTokens'>,
  demonstrations: readonly FewShotDemonstration<Float32Array>[] = [],
): AsyncGenerator<GenerationEvent, void, undefined> {
  const ids = fewShotPromptIds(tokenizer, demonstrations, conversation);
  return model.generateStream([{ ids, lossMask: ids.map(() => 0), images: fewShotImages(demonstrations, image) }], {
    ...options,
    stopTokens: [tokenizer.special.end, tokenizer.special.eos],
    decode: (out) => tokenizer.decode(out),
  });
}
