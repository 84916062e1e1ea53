/**
 * What decides how the next token is picked, with HF GenerationConfig semantics under camelCase
 * names: the fields `TokenPicker` reads. @mllm/llm's `GenerateOptions` (checked by its zod
 * schema) and @mllm/onnx's `OnnxGenerateOptions` (checked here) both carry them.
 */

/** Anything with next() in [0, 1): @mllm/core's Rng fits. */
export interface RandomSource {
  next(): number;
}

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
  suppressTokens?: readonly number[];
  /** Where sampling draws from; or give `seed`. */
  rng?: RandomSource;
  seed?: number;
}

/** Checks sampling options against the vocabulary; the message names the field. */
export function checkSamplingOptions(o: SamplingOptions, vocabSize: number): void {
  const temperature = o.temperature ?? 0;
  if (!(temperature >= 0)) throw new Error(`generate: temperature must be >= 0 (0 is greedy), got ${o.temperature}`);
  if (temperature > 0 && !o.rng && o.seed === undefined) throw new Error('generate: sampling (temperature > 0) needs a seeded rng or a seed, so it is reproducible');
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 1)) throw new Error(`generate: topK must be an integer >= 1, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new Error(`generate: topP must be in (0, 1], got ${o.topP}`);
  if (o.repetitionPenalty !== undefined && !(o.repetitionPenalty > 0)) throw new Error(`generate: repetitionPenalty must be > 0 (1 = none), got ${o.repetitionPenalty}`);
  for (const id of o.suppressTokens ?? []) if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) throw new Error(`generate: suppressTokens id ${id} is outside the vocabulary (size ${vocabSize})`);
}
