/**
 * Plain-JS float64 CLIP / SigLIP vision towers, written from transformers' modeling_clip.py and
 * modeling_siglip.py (CLIPVisionTransformer, SiglipVisionTransformer, nn.MultiheadAttention),
 * independent of tfjs and of the code under test. Weights by HF name, flat row-major.
 */

export type Weights = Record<string, { shape: number[]; data: ArrayLike<number> }>;
type Mat = number[][]; // [T][D]

export interface RefConfig {
  variant: 'clip' | 'siglip';
  dim: number;
  heads: number;
  layers: number;
  patch: number;
  image: number;
  channels: number;
  eps: number;
  act: string;
  useHead: boolean;
}

// erf to ~1e-15: Taylor series near 0, continued fraction for erfc in the tails
function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 2.5) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 80; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = a;
  for (let k = 60; k >= 1; k--) f = a + k / 2 / f;
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export function activation(name: string, x: number): number {
  switch (name) {
    case 'quick_gelu':
      return x / (1 + Math.exp(-1.702 * x));
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_pytorch_tanh':
    case 'gelu_new':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    default:
      throw new Error(`reference: no activation ${name}`);
  }
}

function get(w: Weights, name: string): { shape: number[]; data: ArrayLike<number> } {
  const t = w[name];
  if (!t) throw new Error(`reference: missing ${name}`);
  return t;
}

/** nn.Linear: x [T][in] -> [T][out], W [out][in]. */
function linear(x: Mat, w: Weights, name: string, rows?: [number, number]): Mat {
  const W = get(w, `${name}.weight`);
  const b = w[`${name}.bias`];
  const inF = W.shape[1]!;
  const [r0, r1] = rows ?? [0, W.shape[0]!];
  return x.map((row) => {
    const out: number[] = [];
    for (let o = r0; o < r1; o++) {
      let s = b ? b.data[o]! : 0;
      for (let i = 0; i < inF; i++) s += W.data[o * inF + i]! * row[i]!;
      out.push(s);
    }
    return out;
  });
}

function layerNorm(x: Mat, w: Weights, name: string, eps: number): Mat {
  const g = get(w, `${name}.weight`).data;
  const b = get(w, `${name}.bias`).data;
  return x.map((row) => {
    const mean = row.reduce((a, v) => a + v, 0) / row.length;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / row.length; // biased, as torch
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * g[i]! + b[i]!);
  });
}

/** softmax(q k^T * dh^-0.5) v per head; q [T][D], k/v [S][D]; heads are contiguous dh slices. */
function attend(q: Mat, k: Mat, v: Mat, heads: number): Mat {
  const d = q[0]!.length;
  const dh = d / heads;
  const out = q.map(() => new Array<number>(d).fill(0));
  for (let h = 0; h < heads; h++) {
    for (let t = 0; t < q.length; t++) {
      const scores = k.map((kr) => {
        let s = 0;
        for (let j = 0; j < dh; j++) s += q[t]![h * dh + j]! * kr[h * dh + j]!;
        return s * dh ** -0.5;
      });
      const m = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - m));
      const z = e.reduce((a, b) => a + b, 0);
      for (let s = 0; s < k.length; s++) for (let j = 0; j < dh; j++) out[t]![h * dh + j]! += (e[s]! / z) * v[s]![h * dh + j]!;
    }
  }
  return out;
}

const add = (a: Mat, b: Mat): Mat => a.map((r, i) => r.map((v, j) => v + b[i]![j]!));

function mlp(x: Mat, w: Weights, name: string, act: string): Mat {
  return linear(linear(x, w, `${name}.fc1`).map((r) => r.map((v) => activation(act, v))), w, `${name}.fc2`);
}

/** One image [C][H][W] -> { hiddenStates [L+1][T][D], lastHiddenState [T][D], poolerOutput [D] }, weights without the vision_model. prefix. */
export function referenceVision(c: RefConfig, w: Weights, pixels: number[][][]): { hiddenStates: Mat[]; lastHiddenState: Mat; poolerOutput: number[] } {
  const { dim, patch: p, image, channels } = c;
  const g = image / p;
  const conv = get(w, 'embeddings.patch_embedding.weight').data; // [D][C][P][P]
  const convBias = w['embeddings.patch_embedding.bias']?.data;
  const tokens: Mat = [];
  // Conv2d stride P, then flatten(2).transpose(1, 2): patches in row-major grid order
  for (let gy = 0; gy < g; gy++)
    for (let gx = 0; gx < g; gx++) {
      const e: number[] = [];
      for (let d = 0; d < dim; d++) {
        let s = convBias ? convBias[d]! : 0;
        for (let ch = 0; ch < channels; ch++)
          for (let ky = 0; ky < p; ky++) for (let kx = 0; kx < p; kx++) s += conv[((d * channels + ch) * p + ky) * p + kx]! * pixels[ch]![gy * p + ky]![gx * p + kx]!;
        e.push(s);
      }
      tokens.push(e);
    }
  if (c.variant === 'clip') tokens.unshift(Array.from(get(w, 'embeddings.class_embedding').data));
  const pos = get(w, 'embeddings.position_embedding.weight').data;
  let h: Mat = tokens.map((r, t) => r.map((v, d) => v + pos[t * dim + d]!));
  if (c.variant === 'clip') h = layerNorm(h, w, 'pre_layrnorm', c.eps);
  const hiddenStates: Mat[] = [h];
  for (let l = 0; l < c.layers; l++) {
    const at = `encoder.layers.${l}`;
    const n1 = layerNorm(h, w, `${at}.layer_norm1`, c.eps);
    const a = linear(attend(linear(n1, w, `${at}.self_attn.q_proj`), linear(n1, w, `${at}.self_attn.k_proj`), linear(n1, w, `${at}.self_attn.v_proj`), c.heads), w, `${at}.self_attn.out_proj`);
    h = add(h, a);
    h = add(h, mlp(layerNorm(h, w, `${at}.layer_norm2`, c.eps), w, `${at}.mlp`, c.act));
    hiddenStates.push(h);
  }
  if (c.variant === 'clip') return { hiddenStates, lastHiddenState: h, poolerOutput: layerNorm([h[0]!], w, 'post_layernorm', c.eps)[0]! };
  const last = layerNorm(h, w, 'post_layernorm', c.eps);
  if (!c.useHead) return { hiddenStates, lastHiddenState: last, poolerOutput: [] };
  // SiglipMultiheadAttentionPoolingHead: nn.MultiheadAttention(probe, last, last), packed in_proj rows q | k | v
  const probe = [Array.from(get(w, 'head.probe').data)];
  const inProj: Weights = { 'p.weight': get(w, 'head.attention.in_proj_weight'), 'p.bias': get(w, 'head.attention.in_proj_bias') };
  const q = linear(probe, inProj, 'p', [0, dim]);
  const k = linear(last, inProj, 'p', [dim, 2 * dim]);
  const v = linear(last, inProj, 'p', [2 * dim, 3 * dim]);
  const pooled = linear(attend(q, k, v, c.heads), w, 'head.attention.out_proj');
  const out = add(pooled, mlp(layerNorm(pooled, w, 'head.layernorm', c.eps), w, 'head.mlp', c.act));
  return { hiddenStates, lastHiddenState: last, poolerOutput: out[0]! };
}
