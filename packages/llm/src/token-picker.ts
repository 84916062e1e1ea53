import { Rng } from '@mllm/core/rng';
import type { RandomSource, SamplingOptions } from './sampling-options';
import {
  applyRepetitionPenalty,
  applyTemperature,
  argmax,
  sampleFromLogits,
  suppressTokens,
  topKFilter,
  topPFilter,
} from './logits-processors';

/**
 * Picks each row's next token from its logits the way HF `generate` does (repetition penalty,
 * suppressed tokens, then argmax, or temperature, top-k, top-p and one draw), and remembers what
 * it picked for the repetition penalty. The one picker of @mllm/llm's `generate` (cached or
 * recomputed) and @mllm/onnx's runtime, so both pick alike from alike logits. Pure (no tfjs).
 */
export class TokenPicker {
  private readonly seen: Set<number>[];
  private readonly rng: RandomSource | undefined;

  /** `promptIds`/`promptMask`: the ids behind the prompt; padding (mask 0) is not a token seen. */
  constructor(
    private readonly options: SamplingOptions,
    rows: number,
    promptIds?: readonly (readonly number[])[],
    promptMask?: readonly (readonly number[])[],
  ) {
    this.rng = options.rng ?? (options.seed !== undefined ? new Rng(options.seed) : undefined);
    this.seen = Array.from({ length: rows }, (_, r) => new Set(promptIds?.[r]?.filter((_, k) => (promptMask?.[r]?.[k] ?? 1) !== 0)));
  }

  /**
   * logits [B][V] -> one id per row. Every row draws at each step, finished or not, so a row's
   * tokens do not depend on when the others finish (and a seeded ORT run samples what tfjs does).
   */
  pick(logits: readonly ArrayLike<number>[]): number[] {
    const o = this.options;
    const temperature = o.temperature ?? 0;
    const penalty = o.repetitionPenalty ?? 1;
    return logits.map((rowLogits, r) => {
      const row = Float64Array.from(rowLogits);
      if (penalty !== 1) applyRepetitionPenalty(row, this.seen[r]!, penalty);
      suppressTokens(row, o.suppressTokens ?? []);
      let id: number;
      if (temperature === 0) id = argmax(row);
      else {
        applyTemperature(row, temperature);
        if (o.topK !== undefined) topKFilter(row, o.topK);
        if (o.topP !== undefined) topPFilter(row, o.topP);
        id = sampleFromLogits(row, this.rng!.next());
      }
      this.seen[r]!.add(id);
      return id;
    });
  }
}
