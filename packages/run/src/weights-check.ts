import { CheckpointError, readSafetensorsHeader } from '@mllm/core';
import { formatCount } from './size-limits';
import type { RunSizeEstimate } from './size-estimate';

/**
 * Compares a run folder's `model.safetensors` with the model its config.json describes, from the
 * header alone (shapes, no data), before that model is built: an edited config (a wider LLM, more
 * layers) would otherwise allocate a model of its size first and fail only when loading. The
 * header is checked as on load (no holes, overlaps or trailing bytes). A slot whose type has no
 * estimator (a plugin's) leaves the count unknown, and the tensor-by-tensor check on load decides.
 */
export async function checkWeightsFitConfig(weights: string, estimate: RunSizeEstimate): Promise<void> {
  const { entries } = await readSafetensorsHeader(weights);
  const expected = estimate.totalParameters;
  if (expected === undefined) return;
  const held = entries.reduce((sum, e) => sum + e.shape.reduce((a, b) => a * b, 1), 0);
  if (held === expected) return;
  const { encoder, connector, llm } = estimate.parameters;
  throw new CheckpointError(
    weights,
    `holds ${formatCount(held)} parameters in ${entries.length} tensors, but config.json next to it describes a model of ${formatCount(expected)} ` +
      `(encoder ${formatCount(encoder!)}, connector ${formatCount(connector!)}, llm ${formatCount(llm!)} with a vocabulary of ${estimate.vocabSize}); ` +
      'the config was edited after the run or the weights are another run\'s: restore the config.json the run wrote',
  );
}
