import { CheckpointError } from '@mllm/core';
import { readHfFolderHeaders } from '@mllm/core/internal';
import { causalLmSchema } from './causal-lm';
import type { HfCausalSpec } from './hf-config';
import { estimateDecoderOnly } from './size-estimate';

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const format = (n: number) => (n < 1e5 ? String(n) : n.toExponential(2));

/**
 * Refuses an HF folder whose weights are not the model its config.json describes, from the
 * safetensors headers alone, before a model of the config's shape is built: a 7B config.json
 * over a tiny checkpoint (or hidden_size 1e9) would otherwise allocate the 7B model first. The
 * parameter count the config implies (the same estimate the size limits use) must not pass what
 * the files hold; a config no larger than its weights is built, and the load compares names and
 * shapes tensor by tensor, naming each mismatch.
 */
export async function checkHfCausalWeights(dir: string, spec: HfCausalSpec, configPath: string): Promise<void> {
  const parsed = causalLmSchema.safeParse(spec.llm);
  if (!parsed.success) return; // an invalid shape is the config's own error, reported by validation with its path
  const config = parsed.data;
  const { entries, files } = await readHfFolderHeaders(dir);
  // transformers drops saved RoPE buffers, and ignores (or never saves) lm_head when it is tied
  const held = entries.filter((e) => !e.name.endsWith('.rotary_emb.inv_freq'));
  const expected = estimateDecoderOnly(config, { vocabSize: spec.vocabSize }).parameters; // a tied config counts one V x D matrix
  const found = held.reduce((sum, e) => sum + count(e.shape), 0);
  if (expected <= found) return; // no larger than the weights: built, then the load names each mismatched tensor
  const embed = held.find((e) => e.name === 'model.embed_tokens.weight');
  const layers = new Set(held.flatMap((e) => /^model\.layers\.(\d+)\./.exec(e.name)?.[1] ?? [])).size;
  const seen = embed ? `: model.embed_tokens.weight [${embed.shape.join(', ')}], ${layers} layer(s)` : '';
  throw new CheckpointError(
    configPath,
    `describes a model of ${format(expected)} parameters (hidden_size ${config.dim}, ${config.layers} layers, vocab_size ${spec.vocabSize}) but the weights ` +
      `(${files.map((f) => f.replace(/^.*\//, '')).join(', ')}) hold ${format(found)}${seen}; config.json does not describe these weights, so no model was built. Use the config.json saved with them`,
  );
}
