import type * as tf from '@tensorflow/tfjs';
import { linearForward, type Embedding, type Linear } from '@mllm/core';

/**
 * The LM head: hidden [B, T, D] -> logits [B, T, V]. Untied, its own Linear; tied (HF
 * `tie_word_embeddings`, as SmolLM2 and Gemma save), hidden @ embed_tokens.weight^T, so the one
 * [V, D] variable gets the gradient of both uses summed, as transformers' shared Parameter does.
 */
export function vocabLogits(hidden: tf.Tensor3D, embedTokens: Embedding, lmHead: Linear | undefined): tf.Tensor3D {
  if (lmHead) return lmHead.forward(hidden);
  const [b, t, d] = hidden.shape;
  return linearForward(hidden.reshape([b * t, d]), embedTokens.weight as tf.Tensor2D).reshape([b, t, embedTokens.numEmbeddings]);
}
