import { z } from 'zod';
import { ConfigError, Rng, type ComponentRegistry, type ConfigIssue, type ConnectorText, type FusionConnector, type LanguageModel, type TokenConnector } from '@mllm/core';
import { MultimodalModel, type ModelTokenIds } from './multimodal-model';

/** The model slots of a run config; each slot's options are checked by its registered type. */
export const modelConfigSchema = z.object({
  encoder: z.looseObject({ type: z.string() }),
  connector: z.looseObject({ type: z.string() }),
  llm: z.looseObject({ type: z.string() }),
});
export type ModelConfig = z.output<typeof modelConfigSchema>;

/** Validates every slot against its registered schema and returns all issues by JSON path. */
export function validateModelConfig(config: Record<string, unknown>, registry: ComponentRegistry): { issues: ConfigIssue[]; value?: ModelConfig } {
  const issues: ConfigIssue[] = [];
  const value: Record<string, unknown> = {};
  for (const [slot, reg] of [['encoder', registry.encoders], ['connector', registry.connectors], ['llm', registry.llms]] as const) {
    if (config[slot] === undefined) {
      issues.push({ path: slot, message: `missing; add { "type": ... } with one of: ${reg.types().join(', ')}` });
      continue;
    }
    const r = reg.validate(config[slot], slot);
    if (r.ok) value[slot] = r.value;
    else issues.push(...r.issues);
  }
  return issues.length ? { issues } : { issues, value: value as ModelConfig };
}

export interface BuildModelOptions {
  registry: ComponentRegistry;
  vocabSize: number;
  special: ModelTokenIds;
  seed: number;
  /** The tokenizer, for a connector that hands the LLM words (the expert bridge); see ConnectorContext.text. */
  text?: ConnectorText;
}

/**
 * Builds encoder, connector and LLM from their configs. Widths shared between slots are
 * derived (the connector maps encoder width to LLM width), never written twice.
 */
export function buildModel(config: Record<string, unknown>, options: BuildModelOptions): MultimodalModel {
  const { issues, value } = validateModelConfig(config, options.registry);
  if (!value) throw new ConfigError(issues);
  const rng = new Rng(options.seed);
  const encoder = options.registry.encoders.build(value.encoder, { rng: rng.fork('encoder') });
  const llm = options.registry.llms.build(value.llm, { rng: rng.fork('llm'), vocabSize: options.vocabSize });
  try {
    const connector = options.registry.connectors.build(value.connector, {
      rng: rng.fork('connector'),
      inputDim: encoder.outputDim,
      outputDim: llm.dim,
      inputTokens: encoder.numTokens,
      tokenGrid: encoder.tokenGrid,
      llmLayers: llm.numLayers,
      llmHeads: llm.numHeads,
      llm,
      text: options.text,
    });
    checkFusionPoints(connector, llm, value);
    return new MultimodalModel(encoder, connector, llm, options.special, { encoder: value.encoder, connector: value.connector, llm: value.llm });
  } catch (error) {
    // a rejected connector must not leave the encoder and LLM weights allocated
    encoder.dispose();
    llm.dispose();
    throw error;
  }
}

/** A fusion connector needs its plug points in the LLM; refuse the pair by name before any training. */
function checkFusionPoints(connector: TokenConnector | FusionConnector, llm: LanguageModel, value: ModelConfig): void {
  if (connector.kind === 'fusion-connector') {
    const missing = connector.requires.filter((point) => !llm.fusionPoints?.includes(point));
    if (missing.length) {
      const supported = llm.fusionPoints?.length ? llm.fusionPoints.join(', ') : 'none';
      connector.dispose();
      throw new ConfigError([
        {
          path: 'connector.type',
          message: `${String(value.connector.type)} plugs into the LLM's ${missing.join(', ')} fusion point, which llm type "${String(value.llm.type)}" does not expose (it has: ${supported}); pick an LLM with it or a token-level connector`,
        },
      ]);
    }
  }
}
