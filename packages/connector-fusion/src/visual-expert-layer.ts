import * as tf from '@tensorflow/tfjs';
import { Linear, Module, ModuleGroup, SwiGLU, type ModalityRouting, type Rng } from '@mllm/core';

// Shapes: B batch, T tokens, D LLM width, Dkv key/value width (kv heads x head width), F feed-forward width.

/** The widths of one LLaMA decoder layer that the expert mirrors. */
export interface ExpertShape {
  dim: number;
  kvDim: number;
  mlpHidden: number;
}

/**
 * One decoder layer's visual expert (CogVLM, arXiv:2311.03079): its own q/k/v projections and
 * SwiGLU feed-forward for the image positions, the same shapes as the text ones they start as
 * copies of. Names mirror the LLM layer (`self_attn.{q,k,v}_proj`, `mlp.{gate,up,down}_proj`);
 * CogVLM's fused `vision_expert_query_key_value` splits row-wise into q, k, v.
 */
export class VisualExpertLayer extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly mlp: SwiGLU;

  constructor(readonly shape: ExpertShape, rng: Rng) {
    super();
    const { dim, kvDim, mlpHidden } = shape;
    this.q = new Linear(dim, dim, rng, { bias: false });
    this.k = new Linear(dim, kvDim, rng, { bias: false });
    this.v = new Linear(dim, kvDim, rng, { bias: false });
    this.add('self_attn', new ModuleGroup({ q_proj: this.q, k_proj: this.k, v_proj: this.v }));
    this.mlp = this.add('mlp', new SwiGLU(dim, mlpHidden, rng));
  }

  /** The core plug-point object for one call, given its [B, T, 1] image mask. */
  routing(imageMask: tf.Tensor3D): ModalityRouting {
    return {
      imageMask,
      textMask: tf.onesLike(imageMask).sub(imageMask) as tf.Tensor3D,
      qkv: (x) => ({ q: this.q.forward(x), k: this.k.forward(x), v: this.v.forward(x) }), // [B, T, D], [B, T, Dkv] x2
      mlp: (x) => this.mlp.forward(x), // [B, T, D]
    };
  }
}
