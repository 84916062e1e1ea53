import type * as tf from '@tensorflow/tfjs';
import { LayerNorm, type Attention, type GeluMLP, type Linear, type RMSNorm, type SwiGLU, type TransformerBlock } from '@mllm/core';
import type { GraphBuilder } from './graph-builder';

/**
 * The @mllm/core layers written as ONNX nodes, op for op as their tfjs forward.
 * Shapes: B batch, T query tokens, S key tokens, D width, H heads, Hkv kv heads, dh head width.
 */

export function values(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync() as Float32Array);
}

/** [rows, cols] row-major -> [cols, rows]. */
export function transposeMatrix(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/** x [..., in] -> x W^T + b; W is stored [out, in] as in HF, so the initializer is W^T [in, out]. `outputName` names the result (a graph output then needs no Identity). */
export function linear(g: GraphBuilder, x: string, layer: Linear, name: string, outputName?: string): string {
  // transposed straight from the tensor's data: a copy first would hold a third copy of every weight at export
  const wT = transposeMatrix(layer.weight.dataSync() as Float32Array, layer.outFeatures, layer.inFeatures);
  const y = g.op('MatMul', [x, g.weight(`${name}.weight`, wT, [layer.inFeatures, layer.outFeatures])], {}, layer.bias ? undefined : outputName);
  return layer.bias ? g.op('Add', [y, g.floatTensor(`${name}.bias`, values(layer.bias), [layer.outFeatures])], {}, outputName) : y;
}

/**
 * Several linears of the same input as one MatMul: their W^T side by side [in, sum of outs] (and
 * biases end to end). A decode step (one token) then streams one larger weight instead of several
 * small ones, with one kernel call and one thread-pool dispatch; each output column is the same
 * dot product as before. Returns the product [..., sum of outs].
 */
export function packedLinear(g: GraphBuilder, x: string, layers: Linear[], fusedName: string): string {
  const inFeatures = layers[0]!.inFeatures;
  const total = layers.reduce((sum, l) => sum + l.outFeatures, 0);
  const wT = new Float32Array(inFeatures * total);
  let column = 0;
  for (const layer of layers) {
    const own = transposeMatrix(layer.weight.dataSync() as Float32Array, layer.outFeatures, inFeatures); // [in, out]
    for (let r = 0; r < inFeatures; r++) wT.set(own.subarray(r * layer.outFeatures, (r + 1) * layer.outFeatures), r * total + column);
    column += layer.outFeatures;
  }
  const y = g.op('MatMul', [x, g.weight(`${fusedName}.weight`, wT, [inFeatures, total])]);
  if (!layers.some((l) => l.bias)) return y;
  const bias = new Float32Array(total);
  let at = 0;
  for (const layer of layers) {
    if (layer.bias) bias.set(values(layer.bias), at);
    at += layer.outFeatures;
  }
  return g.op('Add', [y, g.floatTensor(`${fusedName}.bias`, bias, [total])]);
}

/** packedLinear split back into one value per layer. */
export function fusedLinear(g: GraphBuilder, x: string, layers: Linear[], fusedName: string): string[] {
  const y = packedLinear(g, x, layers, fusedName);
  return g.opMulti('Split', [y, g.constInt64(layers.map((l) => l.outFeatures))], layers.length, { axis: { int: -1 } });
}

export function layerNorm(g: GraphBuilder, x: string, norm: LayerNorm, name: string): string {
  const w = g.floatTensor(`${name}.weight`, values(norm.weight), [norm.dim]);
  const b = g.floatTensor(`${name}.bias`, values(norm.bias), [norm.dim]);
  return g.op('LayerNormalization', [x, w, b], { axis: { int: -1 }, epsilon: { float: norm.eps } });
}

/**
 * x / sqrt(mean(x^2) + eps) * weight, written as Pow, ReduceMean, Add, Sqrt, Div, Mul: the
 * pattern onnxruntime fuses into one SimplifiedLayerNormalization kernel (and, after a residual
 * Add, SkipSimplifiedLayerNormalization) at its default optimisation level.
 */
export function rmsNorm(g: GraphBuilder, x: string, norm: RMSNorm, name: string): string {
  const meanSquare = g.op('ReduceMean', [g.op('Pow', [x, g.constFloat([2], [])])], { axes: { ints: [-1] }, keepdims: { int: 1 } });
  const rms = g.op('Sqrt', [g.op('Add', [meanSquare, g.constFloat([norm.eps], [])])]);
  return g.op('Mul', [g.op('Div', [x, rms]), g.floatTensor(`${name}.weight`, values(norm.weight), [norm.dim])]);
}

export function norm(g: GraphBuilder, x: string, n: LayerNorm | RMSNorm, name: string): string {
  return n instanceof LayerNorm ? layerNorm(g, x, n, name) : rmsNorm(g, x, n, name);
}

/** Exact GELU 0.5 x (1 + erf(x / sqrt 2)), the form @mllm/core computes. */
export function gelu(g: GraphBuilder, x: string): string {
  const erf = g.op('Erf', [g.op('Mul', [x, g.constFloat([Math.SQRT1_2], [])])]);
  return g.op('Mul', [g.op('Mul', [x, g.op('Add', [erf, g.constFloat([1], [])])]), g.constFloat([0.5], [])]);
}

export function geluMlp(g: GraphBuilder, x: string, mlp: GeluMLP, name: string): string {
  return linear(g, gelu(g, linear(g, x, mlp.fc1, `${name}.fc1`)), mlp.fc2, `${name}.fc2`);
}

/** The activations of @mllm/encoders' VisionMLP, as its tfjs forward writes them. */
export type MlpActivation = 'gelu' | 'gelu-tanh' | 'quick-gelu' | 'relu' | 'silu';

export function activation(g: GraphBuilder, x: string, name: MlpActivation): string {
  const c = (v: number) => g.constFloat([v], []);
  switch (name) {
    case 'gelu':
      return gelu(g, x);
    case 'gelu-tanh': {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const cube = g.op('Mul', [g.op('Mul', [g.op('Mul', [x, x]), x]), c(0.044715)]);
      const t = g.op('Tanh', [g.op('Mul', [g.op('Add', [x, cube]), c(Math.sqrt(2 / Math.PI))])]);
      return g.op('Mul', [g.op('Mul', [x, g.op('Add', [t, c(1)])]), c(0.5)]);
    }
    case 'quick-gelu':
      return g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, c(1.702)])])]);
    case 'relu':
      return g.op('Relu', [x]);
    case 'silu':
      return g.op('Mul', [x, g.op('Sigmoid', [x])]);
  }
}

/** fc2(act(fc1(x))): a CLIP/SigLIP MLP with any of their activations (@mllm/encoders' VisionMLP). */
export function activationMlp(g: GraphBuilder, x: string, mlp: { fc1: Linear; fc2: Linear; activation: MlpActivation }, name: string): string {
  return linear(g, activation(g, linear(g, x, mlp.fc1, `${name}.fc1`), mlp.activation), mlp.fc2, `${name}.fc2`);
}

/** down(silu(gate(x)) * up(x)); gate and up as one MatMul. */
export function swiGlu(g: GraphBuilder, x: string, mlp: SwiGLU, name: string): string {
  const [gate, up] = fusedLinear(g, x, [mlp.gate, mlp.up], `${name}.gate_up_proj`) as [string, string];
  const silu = g.op('Mul', [gate, g.op('Sigmoid', [gate])]);
  return linear(g, g.op('Mul', [silu, up]), mlp.down, `${name}.down_proj`);
}

/** Rotary tables gathered at the batch's positions, [B, 1, T, dh] each. */
export interface RopeValues {
  cos: string;
  sin: string;
}

export interface AttentionGraphInputs {
  /** Additive mask [B, 1, T, S], every one of the T rows written out (with grouped kv heads it is tiled per group). */
  mask?: string;
  rope?: RopeValues;
  /**
   * Cached keys/values [B, Hkv, P, dh]; concatenated before the new ones. `present` names the
   * concatenations and `step` this call's own keys and values, so they are the graph's outputs
   * themselves and no Identity copies them.
   */
  past?: { key: string; value: string; present?: { key: string; value: string }; step?: { key: string; value: string } };
  /**
   * LLaMA-Adapter prefix (core's AttentionPrefix): states [B, P, D] through this layer's own k/v
   * projections, no RoPE, no mask, a softmax of their own scaled per head by `gate` [H].
   */
  prefix?: { states: string; gate: string };
  /** CogVLM visual expert (core's ModalityRouting): image positions take their q/k/v and feed-forward from `expert`. */
  routing?: GraphRouting;
}

export interface GraphRouting {
  /** [B, T, 1] 1 at image positions, and 1 - that. */
  imageMask: string;
  textMask: string;
  expert: { q: Linear; k: Linear; v: Linear; mlp: SwiGLU };
  /** Initializer prefix of the expert's weights. */
  name: string;
}

/** [B, T, n*dh] -> [B, n, T, dh]. */
function heads(g: GraphBuilder, x: string, n: number, dh: number, outputName?: string): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.constInt64([0, 0, n, dh])])], { perm: { ints: [0, 2, 1, 3] } }, outputName);
}

/** x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1] (HF rotate-half convention). */
function applyRope(g: GraphBuilder, x: string, rope: RopeValues, dh: number, outputName?: string): string {
  const half = dh / 2;
  const x1 = g.op('Slice', [x, g.constInt64([0]), g.constInt64([half]), g.constInt64([-1])]);
  const x2 = g.op('Slice', [x, g.constInt64([half]), g.constInt64([dh]), g.constInt64([-1])]);
  const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: { int: -1 } });
  return g.op('Add', [g.op('Mul', [x, rope.cos]), g.op('Mul', [rotated, rope.sin])], {}, outputName);
}

export interface AttentionGraphOutputs {
  /** [B, T, D]. */
  out: string;
  /** Keys and values [B, Hkv, S, dh], cache included. */
  present: { key: string; value: string };
  /** This call's keys and values alone [B, Hkv, T, dh] (rotated), what a host-side cache appends. */
  step: { key: string; value: string };
}

/** Self-attention; returns the output [B, T, D] and the keys/values [B, Hkv, S, dh] to cache. */
export function attention(
  g: GraphBuilder,
  x: string,
  attn: Attention,
  name: string,
  inputs: AttentionGraphInputs = {},
): AttentionGraphOutputs {
  const h = attn.config.numHeads;
  const hkv = attn.numKvHeads;
  const dh = attn.headDim;
  const outName = attn.config.outputName ?? 'o_proj';
  const r = inputs.routing;
  // x * text + y * image picks either side exactly (0/1 masks), as core's attention does
  const pick = (text: string, expert: Linear, proj: string) =>
    r ? g.op('Add', [g.op('Mul', [text, r.textMask]), g.op('Mul', [linear(g, x, expert, `${r.name}.self_attn.${proj}`), r.imageMask])]) : text;
  // q, k and v as one MatMul, unless the adapter prefix reuses k and v on its own states (it would need them apart)
  const [qx, kx, vx] = inputs.prefix
    ? [linear(g, x, attn.q, `${name}.q_proj`), linear(g, x, attn.k, `${name}.k_proj`), linear(g, x, attn.v, `${name}.v_proj`)]
    : (fusedLinear(g, x, [attn.q, attn.k, attn.v], `${name}.qkv_proj`) as [string, string, string]);
  let q = heads(g, pick(qx, r?.expert.q as Linear, 'q_proj'), h, dh); // [B, H, T, dh]
  const stepNames = inputs.past?.step;
  let k = heads(g, pick(kx, r?.expert.k as Linear, 'k_proj'), hkv, dh, inputs.rope ? undefined : stepNames?.key); // [B, Hkv, T, dh]
  let v = heads(g, pick(vx, r?.expert.v as Linear, 'v_proj'), hkv, dh, stepNames?.value);
  if (inputs.rope) {
    q = applyRope(g, q, inputs.rope, dh);
    k = applyRope(g, k, inputs.rope, dh, stepNames?.key);
  }
  const step = { key: k, value: v }; // this call's own keys and values, before the cache
  if (inputs.past) {
    k = g.op('Concat', [inputs.past.key, k], { axis: { int: 2 } }, inputs.past.present?.key); // [B, Hkv, S, dh]
    v = g.op('Concat', [inputs.past.value, v], { axis: { int: 2 } }, inputs.past.present?.value);
  }
  const present = { key: k, value: v };
  const groups = h / hkv;
  // grouped-query attention without repeating the cache: the G query heads of each kv head are
  // stacked as G*T rows ([B, H, T, dh] -> [B, Hkv, G*T, dh], row g*T + t) against its keys, so
  // a decode step reads the cached keys and values once instead of copying them G times
  const qRows = groups > 1 ? g.op('Reshape', [q, g.constInt64([0, hkv, -1, dh])]) : q;
  const scores = g.op('Mul', [g.op('MatMul', [qRows, g.op('Transpose', [k], { perm: { ints: [0, 1, 3, 2] } })]), g.constFloat([1 / Math.sqrt(dh)], [])]); // [B, Hkv, G*T, S]
  // the mask's T rows repeated for each of the G stacked blocks: [B, 1, G*T, S]
  const mask = inputs.mask && groups > 1 ? g.op('Tile', [inputs.mask, g.constInt64([1, 1, groups, 1])]) : inputs.mask;
  const probs = g.op('Softmax', [mask ? g.op('Add', [scores, mask]) : scores], { axis: { int: -1 } });
  let ctx = g.op('MatMul', [probs, v]); // [B, Hkv, G*T, dh]
  if (groups > 1) ctx = g.op('Reshape', [ctx, g.constInt64([0, h, -1, dh])]); // [B, H, T, dh]
  if (inputs.prefix) {
    let kp = heads(g, linear(g, inputs.prefix.states, attn.k, `${name}.k_proj`), hkv, dh); // [B, Hkv, P, dh]
    let vp = heads(g, linear(g, inputs.prefix.states, attn.v, `${name}.v_proj`), hkv, dh);
    if (groups > 1) {
      kp = repeatHeads(g, kp, groups, h, dh); // [B, H, P, dh]
      vp = repeatHeads(g, vp, groups, h, dh);
    }
    const prefixScores = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [kp], { perm: { ints: [0, 1, 3, 2] } })]), g.constFloat([1 / Math.sqrt(dh)], [])]); // [B, H, T, P]
    const prefixCtx = g.op('MatMul', [g.op('Softmax', [prefixScores], { axis: { int: -1 } }), vp]); // [B, H, T, dh]
    ctx = g.op('Add', [ctx, g.op('Mul', [prefixCtx, g.op('Reshape', [inputs.prefix.gate, g.constInt64([1, h, 1, 1])])])]);
  }
  const merged = g.op('Reshape', [g.op('Transpose', [ctx], { perm: { ints: [0, 2, 1, 3] } }), g.constInt64([0, 0, h * dh])]); // [B, T, D]
  return { out: linear(g, merged, attn.o, `${name}.${outName}`), present, step };
}

/** [B, Hkv, S, dh] -> [B, Hkv * groups, S, dh], each kv head repeated for its query group (HF repeat_kv). */
function repeatHeads(g: GraphBuilder, x: string, groups: number, h: number, dh: number): string {
  const tiled = g.op('Tile', [g.op('Unsqueeze', [x, g.constInt64([2])]), g.constInt64([1, 1, groups, 1, 1])]); // [B, Hkv, groups, S, dh]
  return g.op('Reshape', [tiled, g.constInt64([0, h, -1, dh])]);
}

/** Pre-norm block, Llama (RMSNorm, SwiGLU) or CLIP (LayerNorm, GELU MLP) style. */
export function transformerBlock(
  g: GraphBuilder,
  x: string,
  block: TransformerBlock,
  name: string,
  inputs: AttentionGraphInputs = {},
): AttentionGraphOutputs {
  const llama = block.config.style === 'llama';
  const [n1, n2] = llama ? ['input_layernorm', 'post_attention_layernorm'] : ['layer_norm1', 'layer_norm2'];
  const { out: a, present, step } = attention(g, norm(g, x, block.norm1, `${name}.${n1}`), block.attn, `${name}.self_attn`, inputs);
  const hidden = g.op('Add', [x, a]);
  const n = norm(g, hidden, block.norm2, `${name}.${n2}`);
  const mlp = block.mlp as unknown as SwiGLU | GeluMLP | { fc1: Linear; fc2: Linear; activation: MlpActivation };
  let ff = llama ? swiGlu(g, n, mlp as SwiGLU, `${name}.mlp`) : 'activation' in mlp ? activationMlp(g, n, mlp, `${name}.mlp`) : geluMlp(g, n, mlp as GeluMLP, `${name}.mlp`);
  const r = inputs.routing;
  // norms stay shared (CogVLM); only the feed-forward is picked per position
  if (r) ff = g.op('Add', [g.op('Mul', [ff, r.textMask]), g.op('Mul', [swiGlu(g, n, r.expert.mlp, `${r.name}.mlp`), r.imageMask])]);
  return { out: g.op('Add', [hidden, ff]), present, step };
}
