import { Rng } from '@mllm/core';
import type { ResolvedGenerateOptions } from './generation-options';
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
 * Picks each row's next token from its logits the way HF `generate` does (processors, then
 * argmax or a draw), and remembers what it picked for the repetition penalty. Shared by cached
 * decoding and any recompute reference, so both pick alike from alike logits.
 */
export class TokenPicker {
  private readonly seen: Set<number>[];
  private readonly rng: Rng | undefined;

  /** `promptIds`/`promptMask`: the ids behind the prompt; padding (mask 0) is not a token seen. */
  constructor(
    private readonly options: ResolvedGenerateOptions,
    rows: number,
    promptIds?: readonly (readonly number[])[],
    promptMask?: readonly (readonly number[])[],
  ) {
    this.rng = options.rng ?? (options.seed !== undefined ? new Rng(options.seed) : undefined);
    this.seen = Array.from({ length: rows }, (_, r) => new Set(promptIds?.[r]?.filter((_, k) => (promptMask?.[r]?.[k] ?? 1) !== 0)));
  }

  /**
   * logits [B][V] -> one id per row. Every row draws at each step, finished or not, so a row's
   * tokens do not depend on when the others finish.
   */
  pick(logits: readonly ArrayLike<number>[]): number[] {
    const o = this.options;
    return logits.map((rowLogits, r) => {
      const row = Float64Array.from(rowLogits);
      if (o.repetitionPenalty !== 1) applyRepetitionPenalty(row, this.seen[r]!, o.repetitionPenalty);
      suppressTokens(row, o.suppressTokens);
      let id: number;
      if (o.temperature === 0) id = argmax(row);
      else {
        applyTemperature(row, o.temperature);
        if (o.topK !== undefined) topKFilter(row, o.topK);
        if (o.topP !== undefined) topPFilter(row, o.topP);
        id = sampleFromLogits(row, this.rng!.next());
      }
      this.seen[r]!.add(id);
      return id;
    });
  }
}
