import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CheckpointError, ConfigError, loadHfFolder, parseHfSpec, type LanguageModel, type PretrainedSource } from '@mllm/core';
import { causalSpecFromHf, mergeHfLlmConfig } from './hf-config';
import { loadHfCausalWeights } from './hf-import';
import { checkHfCausalWeights } from './hf-weights-check';

/**
 * `"llm": { "type": "causal", "from": "hf:path/to/folder" }`: the LLM's shape comes from the
 * folder's config.json (fields the run config also sets must agree), its tokenizer from the
 * folder, and its weights are copied in once the model is built. Reads only config.json and the
 * weights' safetensors headers here, so config errors surface before any weights load.
 */
export async function hfCausalSource(config: Record<string, unknown> & { from: string }, path: string): Promise<PretrainedSource<LanguageModel>> {
  let dir: string;
  try {
    dir = resolve(parseHfSpec(config.from));
  } catch (e) {
    throw new ConfigError([{ path: `${path}.from`, message: (e as Error).message }]);
  }
  const configPath = join(dir, 'config.json');
  let hfConfig: Record<string, unknown>;
  try {
    hfConfig = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(configPath, code === 'ENOENT' ? `not found; ${path}.from "${config.from}" must name a HuggingFace model folder (download one: huggingface-cli download <repo> --local-dir <folder>; or write a stand-in with random weights: mllm hf-standin --list)` : `cannot be read (${(e as Error).message})`);
  }
  const spec = causalSpecFromHf(hfConfig, configPath);
  await checkHfCausalWeights(dir, spec, configPath); // headers only: a config.json that is not its weights' is refused before a model of its size exists
  return {
    config: mergeHfLlmConfig(config, spec, path),
    tokenizer: { dir, vocabSize: spec.vocabSize },
    load: async (llm) => {
      const folder = await loadHfFolder(dir);
      try {
        loadHfCausalWeights(llm, folder.tensors, spec, dir);
      } finally {
        for (const t of Object.values(folder.tensors)) t.dispose();
      }
    },
  };
}
