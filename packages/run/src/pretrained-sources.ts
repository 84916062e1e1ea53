import { MllmError, type ComponentRegistry, type PretrainedSource } from '@mllm/core';
import type { MultimodalModel } from '@mllm/model';
import { HfTokenizer } from '@mllm/tokenizer';
import { chatTemplateConfigError } from './chat-template-error';

const SLOTS = [
  ['encoder', 'encoders'],
  ['connector', 'connectors'],
  ['llm', 'llms'],
] as const;

/**
 * A run config whose slots name pretrained sources (`"from": "hf:path/to/folder"`), resolved by
 * each slot type's registry entry: the slot configs expanded (shape from the source), the
 * tokenizer the LLM was trained with, and the weights to copy in once the model is built.
 */
export interface PretrainedSources {
  /** The run config with every resolved slot expanded (no `from`), ready to validate. */
  raw: unknown;
  /** The LLM source's tokenizer; the run must use it, not a fresh word vocabulary. */
  tokenizer?: HfTokenizer;
  /** Copies every source's weights into the built model (call once, after building). */
  loadInto(model: MultimodalModel): Promise<void>;
}

/**
 * Resolves `from` in every slot whose type's registry entry reads it (today: the `causal` LLM;
 * a `vit` reads its own `from` while it is validated and built). Reads only small files, so
 * config errors surface before any weights load.
 */
export async function resolvePretrainedSources(raw: unknown, registry: ComponentRegistry): Promise<PretrainedSources> {
  if (typeof raw !== 'object' || raw === null) return { raw, loadInto: async () => {} };
  const expanded: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  const loads: ((model: MultimodalModel) => Promise<void>)[] = [];
  let tokenizerSource: { dir: string; vocabSize: number } | undefined;
  for (const [slot, registryKey] of SLOTS) {
    const source = (await registry[registryKey].resolveFrom(expanded[slot], slot)) as PretrainedSource<unknown> | undefined;
    if (!source) continue;
    expanded[slot] = source.config;
    loads.push((model) => source.load(componentOf(model, slot)));
    if (source.tokenizer) tokenizerSource = source.tokenizer;
  }
  let tokenizer: HfTokenizer | undefined;
  if (tokenizerSource) {
    try {
      tokenizer = await HfTokenizer.load(tokenizerSource.dir, { modelVocabSize: tokenizerSource.vocabSize });
    } catch (e) {
      const templateError = chatTemplateConfigError(e, 'llm.from');
      throw templateError !== e ? templateError : new MllmError(`llm.from: ${(e as Error).message}`);
    }
  }
  return {
    raw: expanded,
    ...(tokenizer && { tokenizer }),
    loadInto: async (model) => {
      for (const load of loads) await load(model);
    },
  };
}

function componentOf(model: MultimodalModel, slot: (typeof SLOTS)[number][0]) {
  return slot === 'encoder' ? model.encoder : slot === 'connector' ? model.connector : model.llm;
}
