import type { ComponentSize } from '@mllm/core';
import { parameterCount } from '@mllm/core/internal';
import type { VitConfig } from './vit';

/**
 * A ViT's size from its config (after an `hf:` folder filled it in): patch, CLS and position
 * embeddings, CLIP's pre-norm, the blocks, the post-norm, SigLIP's attention-pooling head, and
 * a high-resolution wrapper's tokens (tiles and thumbnail each run the whole tower).
 */
export function estimateVit(config: VitConfig): ComponentSize {
  const { dim, channels, patchSize, imageSize, layers, heads } = config;
  const clip = config.variant === 'clip';
  const mlpHidden = config.mlpHidden ?? Math.round(dim * config.mlpRatio);
  const grid = imageSize / patchSize;
  const positions = grid ** 2 + (clip ? 1 : 0);
  const embeddings = dim * channels * patchSize ** 2 + dim + positions * dim; // patch weight, CLS (clip) or patch bias (siglip), positions
  const block = parameterCount.transformerBlock({ dim, numHeads: heads, mlpHidden, style: 'clip' });
  const head = config.attentionPool ? dim + 3 * dim * dim + 3 * dim + parameterCount.linear(dim, dim) + parameterCount.layerNorm(dim) + parameterCount.geluMlp(dim, mlpHidden) : 0;
  const vit = embeddings + (clip ? parameterCount.layerNorm(dim) : 0) + layers * block + parameterCount.layerNorm(dim) + head;
  const baseTokens = grid ** 2 + (config.includeCls && clip ? 1 : 0);
  const highRes = config.highRes;
  if (!highRes) return { parameters: vit, width: dim, tokens: baseTokens, layers, heads };
  const k = highRes.inputSize / imageSize;
  const side = grid / highRes.merge;
  const width = dim * highRes.merge ** 2;
  const tiles = highRes.strategy === 'tiles';
  // resize: one view; tiles: thumbnail g^2, then k*g lines of k*g tokens and a separator each (see HighResEncoder.tokensFor)
  const tokens = tiles ? (highRes.thumbnail ? side * side : 0) + k * side * (k * side + 1) : highRes.merge > 1 ? side ** 2 : baseTokens;
  const views = tiles ? k * k + (highRes.thumbnail ? 1 : 0) : 1;
  return { parameters: vit + (tiles ? width : 0), width, tokens, forwardTokens: views * grid ** 2, layers, heads };
}
