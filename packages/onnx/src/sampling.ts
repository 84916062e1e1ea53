// Relative imports on purpose: these two files are pure (no tfjs), and tsup bundles them into
// the runtime entry, so `@mllm/onnx/runtime` picks tokens exactly as @mllm/llm's generate does
// without depending on tfjs.
import {
  applyRepetitionPenalty,
  applyTemperature,
  argmax,
  sampleFromLogits,
  suppressTokens,
  topKFilter,
  topPFilter,
} from '../../llm/src/logits-processors';
import { Rng } from '../../core/src/rng';

/** Anything with next() in [0, 1): @mllm/core's Rng fits. */
export interface RandomSource {
  next(): number;
}

/** HF GenerationConfig semantics, the same fields as @mllm/llm's GenerateOptions. */
export interface SamplingOptions {
  /** 0 (default) = greedy. */
  temperature?: number;
  /** Sample among the k most likely tokens (ties with the k-th stay). */
  topK?: number;
  /** Nucleus sampling: the smallest set of most likely tokens whose probability reaches topP. */
  topP?: number;
  /** HF repetition penalty on every id in the sequence so far (prompt and generated): 1 = none. */
  repetitionPenalty?: number;
  /** Ids never to emit; their logits become -Infinity. */
  suppressTokens?: number[];
  /** Where sampling draws from; or give `seed`. */
  rng?: RandomSource;
  seed?: number;
}

/** Checks sampling options; the message names the field. */
export function checkSamplingOptions(o: SamplingOptions, vocabSize: number): void {
  const temperature = o.temperature ?? 0;
  if (!(temperature >= 0)) throw new Error(`generate: temperature must be >= 0 (0 is greedy), got ${o.temperature}`);
  if (temperature > 0 && !o.rng && o.seed === undefined) throw new Error('generate: sampling (temperature > 0) needs a seeded rng or a seed, so it is reproducible');
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 1)) throw new Error(`generate: topK must be an integer >= 1, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new Error(`generate: topP must be in (0, 1], got ${o.topP}`);
  if (o.repetitionPenalty !== undefined && !(o.repetitionPenalty > 0)) throw new Error(`generate: repetitionPenalty must be > 0 (1 = none), got ${o.repetitionPenalty}`);
  for (const id of o.suppressTokens ?? []) if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) throw new Error(`generate: suppressTokens id ${id} is outside the vocabulary (size ${vocabSize})`);
}

/**
 * Picks each row's next token as @mllm/llm's TokenPicker (HF order: repetition penalty,
 * suppressed tokens, then greedy argmax or temperature, top-k, top-p and one draw), and
 * remembers what each row has seen for the penalty. Every row draws every step, finished or
 * not, so a seeded ORT run samples the tokens the tfjs run samples.
 */
export class TokenPicker {
  private readonly seen: Set<number>[];
  private readonly rng: RandomSource | undefined;

  constructor(private readonly options: SamplingOptions, promptIds: readonly (readonly number[])[], promptMask: readonly (readonly number[])[]) {
    this.rng = options.rng ?? (options.seed !== undefined ? new Rng(options.seed) : undefined);
    this.seen = promptIds.map((ids, r) => new Set(ids.filter((_, k) => promptMask[r]![k] !== 0)));
  }

  pick(logits: readonly ArrayLike<number>[]): number[] {
    const o = this.options;
    const temperature = o.temperature ?? 0;
    return logits.map((rowLogits, r) => {
      const row = Float64Array.from(rowLogits);
      if ((o.repetitionPenalty ?? 1) !== 1) applyRepetitionPenalty(row, this.seen[r]!, o.repetitionPenalty!);
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
