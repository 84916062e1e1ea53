import type { ModelImage, MultimodalModel } from '@mllm/model';
import type { TextTokenizer } from '@mllm/tokenizer';
import { promptIds } from '../answerer';
import type { ToolController } from './tool-session';

/** Replies are short (a call is at most ~10 words, an answer one or two). */
export const CONTROLLER_MAX_NEW_TOKENS = 16;

/** The run's own model as the controller: greedy replies in the chat template, `batchSize` conversations per generate call. */
export function modelController(model: MultimodalModel, tokenizer: TextTokenizer, images: readonly ModelImage[], options: { batchSize: number; maxNewTokens?: number }): ToolController {
  return {
    async reply(sessions) {
      const out: string[] = [];
      for (let from = 0; from < sessions.length; from += options.batchSize) {
        const prompts = sessions.slice(from, from + options.batchSize).map((s) => {
          const ids = promptIds(tokenizer, s.turns);
          return { ids, lossMask: ids.map(() => 0), images: [images[s.imageIndex]!] };
        });
        const outputs = model.generate(prompts, { maxNewTokens: options.maxNewTokens ?? CONTROLLER_MAX_NEW_TOKENS, stopTokens: [tokenizer.special.end, tokenizer.special.eos] });
        out.push(...outputs.map((ids) => tokenizer.decode(ids)));
      }
      return out;
    },
  };
}
