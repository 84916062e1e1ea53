import type { ComponentSize, EstimateContext } from '@mllm/core';
import { parameterCount } from '@mllm/core/internal';
import type { CausalLmConfig } from './causal-lm';
import type { PrefixLmConfig } from './prefix-lm';
import type { EncoderDecoderLmConfig } from './encoder-decoder-lm';

type DecoderOptions = Omit<CausalLmConfig, 'type'>;

/** The decoder layer every backbone here is made of (LLaMA style: RMSNorm, RoPE attention, SwiGLU or MoE). */
function blockShape(config: DecoderOptions) {
  const mlpHidden = config.mlpHidden ?? Math.round((config.dim * 8) / 3); // as the backbones build it
  const kvDim = ((config.kvHeads ?? config.heads) * config.dim) / config.heads;
  const block = parameterCount.transformerBlock({ dim: config.dim, numHeads: config.heads, numKvHeads: config.kvHeads, mlpHidden, style: 'llama', ffn: config.ffn });
  return { mlpHidden, kvDim, block };
}

/** Embedding and, untied, an LM head (vocab x dim each), the final RMSNorm. */
function vocabParameters(config: DecoderOptions, context: EstimateContext): number {
  const vocab = context.vocabSize ?? 0;
  return (config.tieWordEmbeddings ? 1 : 2) * vocab * config.dim + parameterCount.rmsNorm(config.dim);
}

/** Causal and prefix LMs: embeddings, `layers` decoder blocks (MoE experts counted whole), final norm, LM head. */
export function estimateDecoderOnly(config: CausalLmConfig | PrefixLmConfig, context: EstimateContext): ComponentSize {
  const { mlpHidden, kvDim, block } = blockShape(config);
  return {
    parameters: vocabParameters(config, context) + config.layers * block,
    width: config.dim,
    tokens: 0,
    layers: config.layers,
    heads: config.heads,
    kvDim,
    mlpHidden,
  };
}

/** Encoder-decoder: encoder blocks and norm, decoder blocks with a cross-attention and its RMSNorm each. */
export function estimateEncoderDecoder(config: EncoderDecoderLmConfig, context: EstimateContext): ComponentSize {
  const { mlpHidden, kvDim, block } = blockShape(config);
  const encoderLayers = config.encoderLayers ?? config.layers;
  const crossAttention = parameterCount.attention({ dim: config.dim, numHeads: config.heads, numKvHeads: config.kvHeads, bias: false }) + parameterCount.rmsNorm(config.dim);
  return {
    parameters: vocabParameters(config, context) + encoderLayers * block + parameterCount.rmsNorm(config.dim) + config.layers * (block + crossAttention),
    width: config.dim,
    tokens: 0,
    layers: encoderLayers + config.layers,
    heads: config.heads,
    kvDim,
    mlpHidden,
  };
}
