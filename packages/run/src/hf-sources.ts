import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CheckpointError, ConfigError, MllmError, loadHfFolder, parseHfSpec } from '@mllm/core';
import { causalSpecFromHf, loadHfCausalWeights, mergeHfLlmConfig, type HfCausalSpec } from '@mllm/llm';
import type { MultimodalModel } from '@mllm/model';
import { HfTokenizer } from '@mllm/tokenizer';

/**
 * A run config whose `llm` says `"from": "hf:path/to/folder"`, resolved: the LLM's shape comes
 * from the folder's config.json (fields the run config also sets must agree), its tokenizer
 * from the folder's tokenizer.json, and its weights are copied in once the model is built.
 */
export interface HfSources {
  /** The run config with `llm` expanded to plain causal options (no `from`), ready to validate. */
  raw: unknown;
  /** The folder's tokenizer when the LLM comes from HF; the run must use it, not a fresh word vocabulary. */
  tokenizer?: HfTokenizer;
  /** Copies the HF weights into the built model's LLM (call once, after building). */
  loadInto(model: MultimodalModel): Promise<void>;
}

/** Reads only the small files (config.json, tokenizer) so config errors surface before any weights load. */
export async function resolveHfSources(raw: unknown): Promise<HfSources> {
  const llm = (raw as { llm?: unknown } | null)?.llm;
  const from = (llm as { from?: unknown } | null | undefined)?.from;
  if (from === undefined) return { raw, loadInto: async () => {} };
  let dir: string;
  try {
    dir = resolve(parseHfSpec(from as string));
  } catch (e) {
    throw new ConfigError([{ path: 'llm.from', message: (e as Error).message }]);
  }
  const configPath = join(dir, 'config.json');
  let hfConfig: Record<string, unknown>;
  try {
    hfConfig = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(configPath, code === 'ENOENT' ? `not found; llm.from "${String(from)}" must name a HuggingFace model folder` : `cannot be read (${(e as Error).message})`);
  }
  const spec: HfCausalSpec = causalSpecFromHf(hfConfig, configPath);
  const merged = mergeHfLlmConfig(llm as Record<string, unknown>, spec);
  let tokenizer: HfTokenizer;
  try {
    tokenizer = await HfTokenizer.load(dir, { modelVocabSize: spec.vocabSize });
  } catch (e) {
    throw new MllmError(`llm.from: ${(e as Error).message}`);
  }
  return {
    raw: { ...(raw as Record<string, unknown>), llm: merged },
    tokenizer,
    loadInto: async (model) => {
      const folder = await loadHfFolder(dir);
      try {
        loadHfCausalWeights(model.llm, folder.tensors, spec, dir);
      } finally {
        for (const t of Object.values(folder.tensors)) t.dispose();
      }
    },
  };
}
