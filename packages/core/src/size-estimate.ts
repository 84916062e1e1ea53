import type { TransformerBlockConfig } from './nn/transformer-block';
import type { AttentionConfig } from './nn/attention';

/**
 * A component's size as its config implies it, computed without building anything, so a run
 * can refuse a config too large for the machine before the first weight is allocated. The
 * counts are closed formulas in the config's numbers (layers multiply, they are not looped),
 * so absurd values (1e9 layers) cost nothing to estimate.
 */
export interface ComponentSize {
  /** Learnable parameters, as `numParameters()` of the built component counts them. */
  parameters: number;
  /** Output width: an encoder's feature width, a connector's (the LLM width), the LLM's hidden width. */
  width: number;
  /** Encoder: feature tokens per image; token connector: tokens per image in the LLM sequence; fusion connector: 0. */
  tokens: number;
  /** Tokens per image the layers process, where more than `tokens` (a high-resolution encoder's tiles, each a full view); default `tokens`. */
  forwardTokens?: number;
  /** Transformer layers whose activations a forward keeps for the backward pass (0 for a projection). */
  layers: number;
  /** Attention heads per layer (0 without attention); activation memory grows with heads x tokens^2. */
  heads: number;
  /** An LLM's decoder-layer shape, for connectors sized by it (CogVLM's visual expert copies the q/k/v and MLP). */
  kvDim?: number;
  mlpHidden?: number;
}

/** What an estimator knows of the other slots, all derived from their configs. */
export interface EstimateContext {
  /** LLM: the tokenizer's vocabulary (embedding rows and logits). */
  vocabSize?: number;
  /** Connector: the encoder's feature width and tokens per image. */
  inputDim?: number;
  inputTokens?: number;
  /** Connector: the LLM's estimated size (width, layers, heads, decoder-layer shape). */
  llm?: ComponentSize;
}

/** Estimates one registered type's size from its validated config (see `RegisterOptions.estimate`). */
// each entry has its own config type; `register` types the estimator against its schema
export type SizeEstimator = (config: any, context: EstimateContext) => ComponentSize | undefined;

/** Parameter counts of core's building blocks, the formulas behind each component's estimator. */
export const parameterCount = {
  linear: (inFeatures: number, outFeatures: number, bias = true): number => inFeatures * outFeatures + (bias ? outFeatures : 0),
  layerNorm: (dim: number): number => 2 * dim,
  rmsNorm: (dim: number): number => dim,
  /** q and o are dim x dim, k and v dim x (kvHeads * dim / heads). */
  attention(config: AttentionConfig): number {
    const kvDim = ((config.numKvHeads ?? config.numHeads) * config.dim) / config.numHeads;
    const bias = config.bias ?? true;
    return 2 * parameterCount.linear(config.dim, config.dim, bias) + 2 * parameterCount.linear(config.dim, kvDim, bias);
  },
  /** SwiGLU (gate, up, down; no bias). */
  swiGlu: (dim: number, hidden: number): number => 3 * dim * hidden,
  /** fc1 and fc2 with biases (CLIP's MLP). */
  geluMlp: (dim: number, hidden: number): number => parameterCount.linear(dim, hidden) + parameterCount.linear(hidden, dim),
  /** LayerNorm then two bias-free linears (Flamingo's and the Perceiver's feed-forward). */
  preNormFeedForward: (dim: number, hidden: number): number => parameterCount.layerNorm(dim) + 2 * dim * hidden,
  /** Core's TransformerBlock: two norms, attention, and a dense or MoE feed-forward. */
  transformerBlock(config: TransformerBlockConfig): number {
    const llama = config.style === 'llama';
    const norms = 2 * (llama ? parameterCount.rmsNorm(config.dim) : parameterCount.layerNorm(config.dim));
    const attention = parameterCount.attention({ dim: config.dim, numHeads: config.numHeads, numKvHeads: config.numKvHeads, bias: !llama });
    const ffn =
      config.ffn?.type === 'moe'
        ? parameterCount.linear(config.dim, config.ffn.experts, false) + config.ffn.experts * parameterCount.swiGlu(config.dim, config.mlpHidden)
        : llama
          ? parameterCount.swiGlu(config.dim, config.mlpHidden)
          : parameterCount.geluMlp(config.dim, config.mlpHidden);
    return norms + attention + ffn;
  },
};
