// The shapes tools/bench-vs-torch.mjs compares, and this project's model and batch for each.
import * as tf from '@tensorflow/tfjs';
import { Module, Rng } from '@mllm/core';
import { CausalLM, causalLmSchema } from '@mllm/llm';
import { MlpProjector } from '@mllm/connector-projection';
import { MultimodalModel } from '@mllm/model';

const smollm2 = { dim: 576, layers: 30, heads: 9, kvHeads: 3, mlpHidden: 1536, ropeTheta: 100000, normEps: 1e-5 };

/**
 * batch x seq tokens a row (visual tokens included), `lossTokens` trained answer tokens at the end
 * of each row; the LLM at `llm` (HF Llama names), `vocab` ids; `visualTokens` x `featDim` tower
 * features per image (default config: its ViT's 4 tokens of 64; SigLIP-B/16 at 224 px: 196 of 768).
 */
export const benchCases = {
  default: { describe: 'the default config\'s instruct step: LLM 2 x 96, vocab 60, 32 rows x 46 tokens (4 visual of 64 wide), 6 trained tokens a row', llm: { dim: 96, layers: 2, heads: 4, kvHeads: 4, mlpHidden: 256, ropeTheta: 10000, normEps: 1e-6 }, vocab: 60, batch: 32, seq: 46, visualTokens: 4, featDim: 64, lossTokens: 6, trains: ['multi_modal_projector', 'language_model'], lr: 0.002 },
  'llm-8x256': { describe: 'instruct, LLM 8 x 256 (8 heads), otherwise the default config\'s shapes', llm: { dim: 256, layers: 8, heads: 8, kvHeads: 8, mlpHidden: 683, ropeTheta: 10000, normEps: 1e-6 }, vocab: 60, batch: 32, seq: 46, visualTokens: 4, featDim: 64, lossTokens: 6, trains: ['multi_modal_projector', 'language_model'], lr: 0.002 },
  'smollm2-135m-instruct': { describe: 'instruct (LLM + connector), SmolLM2-135M shapes (untied head), 1 row x 256 tokens (2 rows overflow the 4 GB wasm heap) (196 visual from SigLIP-B/16, 768 -> 576), 32 trained tokens a row', llm: smollm2, vocab: 49152, batch: 1, seq: 256, visualTokens: 196, featDim: 768, lossTokens: 32, trains: ['multi_modal_projector', 'language_model'], lr: 2e-5 },
  'smollm2-135m-align': { describe: 'align (connector only), same shapes', llm: smollm2, vocab: 49152, batch: 1, seq: 256, visualTokens: 196, featDim: 768, lossTokens: 32, trains: ['multi_modal_projector'], lr: 1e-3 },
};

/**
 * A frozen tower's cached features fed as the image: the "pixels" [B, s, s, 3] hold the features
 * [B, N, D] in their first N x D values, and encode is a reshape, so the step does no tower work.
 */
class FeatureTower extends Module {
  kind = 'vision-encoder';
  strategy = 'resize';
  constructor(numTokens, outputDim) {
    super();
    this.numTokens = numTokens;
    this.outputDim = outputDim;
    this.imageSize = Math.ceil(Math.sqrt((numTokens * outputDim) / 3));
  }
  encode(pixels) {
    const b = pixels.shape[0];
    return pixels.reshape([b, -1]).slice([0, 0], [b, this.numTokens * this.outputDim]).reshape([b, this.numTokens, this.outputDim]);
  }
  pooled(pixels) {
    return this.encode(pixels).mean(1);
  }
}

/** Seeded uniform numbers for ids and features (the same batch every run). */
function uniform(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** This project's model for a case (tower frozen, the case's modules trainable), its batch and optimizer settings. */
export function buildCase(spec, seed = 0) {
  const imageTokenId = spec.vocab - 1;
  const llm = new CausalLM(causalLmSchema.parse({ type: 'causal', ...spec.llm }), spec.vocab, new Rng(seed + 1));
  const connector = new MlpProjector({ depth: 2 }, spec.featDim, spec.llm.dim, new Rng(seed + 2));
  const model = new MultimodalModel(new FeatureTower(spec.visualTokens, spec.featDim), connector, llm, { imageTokenId, padId: 0 });
  model.freeze();
  if (spec.trains.includes('language_model')) llm.unfreeze();
  connector.unfreeze();
  const next = uniform(seed + 3);
  const canvas = model.encoder.imageSize ** 2 * 3;
  const features = new Float32Array(spec.batch * spec.visualTokens * spec.featDim);
  const samples = [];
  for (let row = 0; row < spec.batch; row++) {
    // [bos] <image> prompt... answer...: seq + 1 ids once the image expands (targets shift by one)
    const text = spec.seq + 1 - 1 - spec.visualTokens;
    const ids = [1, imageTokenId, ...Array.from({ length: text }, () => 2 + Math.floor(next() * (spec.vocab - 3)))];
    const lossMask = ids.map((_, i) => (i >= ids.length - spec.lossTokens ? 1 : 0));
    const image = new Float32Array(canvas);
    for (let i = 0; i < spec.visualTokens * spec.featDim; i++) image[i] = 2 * next() - 1;
    features.set(image.subarray(0, spec.visualTokens * spec.featDim), row * spec.visualTokens * spec.featDim);
    samples.push({ ids, lossMask, images: [image] });
  }
  const batch = model.collate(samples);
  const optim = { lr: spec.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, clipNorm: 1 };
  return { model, batch, features, spec, optim, tokens: spec.batch * spec.seq };
}

/**
 * FLOPs of one step, counted the same for both engines: 2 x (rows x seq) x matMul parameters of the
 * LLM (layers and LM head; the embedding is a lookup), x3 when trained (forward, input and weight
 * gradients) and x2 when frozen on the gradient's path (forward, input gradient); the connector's
 * 3 x 2 x params x visual tokens; attention 12 x layers x seq x dim per token (scores and mixing,
 * forward and backward, the full square). Same formula as `npm run bench`'s 6 x params x tokens.
 */
export function stepFlops(spec) {
  const { dim, layers, heads, kvHeads, mlpHidden } = spec.llm;
  const dh = dim / heads;
  const llmParams = layers * (2 * dim * heads * dh + 2 * dim * kvHeads * dh + 3 * dim * mlpHidden) + spec.vocab * dim;
  const tokens = spec.batch * spec.seq;
  const llmFactor = spec.trains.includes('language_model') ? 3 : 2;
  const connector = spec.featDim * dim + dim * dim;
  return 2 * tokens * llmParams * llmFactor + 6 * connector * spec.batch * spec.visualTokens + 12 * layers * spec.seq * dim * tokens;
}

void tf;
