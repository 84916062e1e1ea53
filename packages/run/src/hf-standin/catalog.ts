import { byteLevelBpeTokenizerJson } from './byte-level-bpe';
import { llamaTensors } from './llama-tensors';
import type { StandinDtype } from './safetensors-writer';
import { SMOLLM2_SPECIAL_TOKENS, smolLm2Config, smolLm2GenerationConfig, smolLm2SpecialTokensMap, smolLm2TokenizerConfig, type SmolLm2Size } from './smollm2';
import type { PlannedTensor } from './tensor-plan';
import { clipPlan, clipVitBasePatch16Config, clipVitBasePatch16Preprocessor, siglipBasePatch16Config, siglipBasePatch16Preprocessor, siglipPlan } from './vision-towers';

/** A released checkpoint the stand-in writer reproduces (all but the trained numbers). */
export interface StandinModel {
  /** What `mllm hf-standin <name>` takes. */
  name: string;
  /** The HuggingFace repository whose layout and config it copies. */
  repo: string;
  kind: 'llm' | 'vision';
  licence: string;
  description: string;
  /** The released config.json. */
  config(): Record<string, unknown>;
  /** Every tensor the released weights hold, shaped by a config.json. */
  tensors(config: Record<string, unknown>): PlannedTensor[];
  /** The dtype the released safetensors hold. */
  dtype: StandinDtype;
  /** The other files of the repository the loaders read (tokenizer, generation, preprocessor), by name. */
  files(config: Record<string, unknown>): Record<string, unknown>;
}

function smolLm2(size: SmolLm2Size, instruct: boolean): StandinModel {
  const suffix = instruct ? '-instruct' : '';
  return {
    name: `smollm2-${size.toLowerCase()}${suffix}`,
    repo: `HuggingFaceTB/SmolLM2-${size}${instruct ? '-Instruct' : ''}`,
    kind: 'llm',
    licence: 'Apache-2.0',
    description: `LlamaForCausalLM, ${size === '135M' ? '30 layers x 576, 9 heads / 3 KV heads' : '32 layers x 960, 15 heads / 5 KV heads'}, tied embeddings, vocab 49152${instruct ? ', ChatML instruct tokens' : ''}`,
    config: () => smolLm2Config(size, instruct),
    tensors: llamaTensors,
    dtype: 'BF16',
    files: (config) => ({
      'generation_config.json': smolLm2GenerationConfig(instruct),
      'special_tokens_map.json': smolLm2SpecialTokensMap(instruct),
      'tokenizer_config.json': smolLm2TokenizerConfig(instruct),
      'tokenizer.json': byteLevelBpeTokenizerJson({ specialTokens: SMOLLM2_SPECIAL_TOKENS, vocabSize: config.vocab_size as number }),
    }),
  };
}

/** Every stand-in `mllm hf-standin` can write, by name. */
export const STANDIN_MODELS: readonly StandinModel[] = [
  smolLm2('135M', false),
  smolLm2('135M', true),
  smolLm2('360M', false),
  smolLm2('360M', true),
  {
    name: 'siglip-base-patch16-224',
    repo: 'google/siglip-base-patch16-224',
    kind: 'vision',
    licence: 'Apache-2.0',
    description: 'SiglipModel (vision 12 layers x 768 at 224 px, patch 16, attention-pool head; text tower 12 x 768)',
    config: siglipBasePatch16Config,
    tensors: siglipPlan,
    dtype: 'F32',
    files: () => ({ 'preprocessor_config.json': siglipBasePatch16Preprocessor() }),
  },
  {
    name: 'clip-vit-base-patch16',
    repo: 'openai/clip-vit-base-patch16',
    kind: 'vision',
    licence: 'MIT',
    description: 'CLIPModel (vision ViT-B/16 12 layers x 768 at 224 px, quick_gelu; text tower 12 x 512; projections to 512)',
    config: clipVitBasePatch16Config,
    tensors: clipPlan,
    dtype: 'F32',
    files: () => ({ 'preprocessor_config.json': clipVitBasePatch16Preprocessor() }),
  },
];

export const STANDIN_NAMES = STANDIN_MODELS.map((m) => m.name);
