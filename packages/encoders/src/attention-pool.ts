import * as tf from '@tensorflow/tfjs';
import { LayerNorm, Linear, Module, batchMatMul, batchMatMulNT, linearForward, normalInit, type Rng } from '@mllm/core';
import type { VitActivation } from './activations';
import { VisionMLP } from './vision-mlp';

/**
 * torch.nn.MultiheadAttention's parameters as HF checkpoints store them: q, k and v packed in
 * `in_proj_weight` [3D, D] / `in_proj_bias` [3D] (rows 0..D q, D..2D k, 2D..3D v), then `out_proj`.
 */
class PackedMultiheadAttention extends Module {
  readonly inProjWeight: tf.Variable;
  readonly inProjBias: tf.Variable;
  readonly outProj: Linear;

  constructor(readonly dim: number, readonly numHeads: number, rng: Rng) {
    super();
    this.inProjWeight = this.param('in_proj_weight', normalInit(rng, [3 * dim, dim], 1 / Math.sqrt(dim)));
    this.inProjBias = this.param('in_proj_bias', tf.zeros([3 * dim]));
    this.outProj = this.add('out_proj', new Linear(dim, dim, rng));
  }

  /** query [B, T, D], keyValue [B, S, D] -> [B, T, D]: softmax(q k^T / sqrt(dh)) v per head, then out_proj. */
  forward(query: tf.Tensor3D, keyValue: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const { dim: d, numHeads: h } = this;
      const dh = d / h;
      const [b, t] = query.shape;
      const project = (x: tf.Tensor3D, part: number) => {
        const w = this.inProjWeight.slice([part * d, 0], [d, d]) as tf.Tensor2D;
        const bias = this.inProjBias.slice([part * d], [d]) as tf.Tensor1D;
        const [rows, len] = x.shape;
        return linearForward(x.reshape([rows * len, d]) as tf.Tensor2D, w, bias)
          .reshape([rows, len, h, dh])
          .transpose([0, 2, 1, 3])
          .reshape([rows * h, len, dh]) as tf.Tensor3D; // [B*H, len, dh]
      };
      const q = project(query, 0);
      const k = project(keyValue, 1);
      const v = project(keyValue, 2);
      const probs = tf.softmax(batchMatMulNT(q, k).mul(1 / Math.sqrt(dh))) as tf.Tensor3D; // [B*H, T, S]
      const ctx = batchMatMul(probs, v).reshape([b, h, t, dh]).transpose([0, 2, 1, 3]).reshape([b, t, d]) as tf.Tensor3D;
      return this.outProj.forward(ctx); // [B, T, D]
    });
  }
}

/**
 * Multihead attention pooling: one learned probe attends over the tokens, then a residual
 * pre-LN MLP (HF SiglipMultiheadAttentionPoolingHead; Zhai et al., arXiv:2303.15343).
 * Shapes: B batch, N tokens, D width.
 */
export class AttentionPoolingHead extends Module {
  readonly probe: tf.Variable;
  readonly attention: PackedMultiheadAttention;
  readonly layernorm: LayerNorm;
  readonly mlp: VisionMLP;

  constructor(config: { dim: number; heads: number; mlpHidden: number; activation: VitActivation; normEps: number }, rng: Rng) {
    super();
    this.probe = this.param('probe', normalInit(rng, [1, 1, config.dim], 1 / Math.sqrt(config.dim)));
    this.attention = this.add('attention', new PackedMultiheadAttention(config.dim, config.heads, rng));
    this.layernorm = this.add('layernorm', new LayerNorm(config.dim, config.normEps));
    this.mlp = this.add('mlp', new VisionMLP(config.dim, config.mlpHidden, config.activation, rng));
  }

  /** tokens [B, N, D] -> [B, D]. */
  forward(tokens: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const [b, , d] = tokens.shape;
      const probe = this.probe.tile([b, 1, 1]) as tf.Tensor3D; // [B, 1, D]
      const h = this.attention.forward(probe, tokens); // [B, 1, D]
      const out = h.add(this.mlp.forward(this.layernorm.forward(h))); // [B, 1, D]
      return out.reshape([b, d]) as tf.Tensor2D;
    });
  }
}
