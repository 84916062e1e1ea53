/**
 * An independent float64 forward of HF LlamaForCausalLM / MixtralForCausalLM, written from
 * transformers' modeling_llama.py and modeling_mixtral.py with plain arrays (no tfjs), plus a
 * writer of tiny random checkpoints in the HF folder layout. Tests compare our tfjs forward
 * against it.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, saveHfFolder, type SaveHfFolderOptions } from '@mllm/core';

type Weights = Record<string, { shape: number[]; data: Float64Array }>;

export function toFloat64(tensors: Record<string, tf.Tensor>): Weights {
  return Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, { shape: t.shape, data: Float64Array.from(t.dataSync()) }]));
}

/** y = W x for W [out, in] (nn.Linear without bias). */
function linear(w: { shape: number[]; data: Float64Array }, x: Float64Array): Float64Array {
  const [out, inp] = w.shape as [number, number];
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = 0;
    for (let i = 0; i < inp; i++) s += w.data[o * inp + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

/** LlamaRMSNorm: x * rsqrt(mean(x^2) + eps), then weight * that. */
function rmsNorm(x: Float64Array, w: Float64Array, eps: number): Float64Array {
  let ms = 0;
  for (const v of x) ms += v * v;
  const r = 1 / Math.sqrt(ms / x.length + eps);
  return x.map((v, i) => w[i]! * (v * r));
}

const silu = (v: number) => v / (1 + Math.exp(-v));

/** apply_rotary_pos_emb on one head: x * cos + rotate_half(x) * sin, emb = cat(freqs, freqs). */
function rope(x: Float64Array, position: number, theta: number): Float64Array {
  const d = x.length;
  const half = d / 2;
  const f = Math.fround; // inv_freq and freqs are float32 tensors in transformers
  const out = new Float64Array(d);
  for (let i = 0; i < half; i++) {
    const invFreq = f(1 / f(Math.pow(theta, f((2 * i) / d))));
    const angle = f(position * invFreq);
    const [c, s] = [Math.cos(angle), Math.sin(angle)];
    out[i] = x[i]! * c - x[i + half]! * s; // rotate_half(x)[i] = -x[i + half]
    out[i + half] = x[i + half]! * c + x[i]! * s; // rotate_half(x)[i + half] = x[i]
  }
  return out;
}

export interface ReferenceConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  rms_norm_eps: number;
  rope_theta: number;
  tie_word_embeddings?: boolean;
  num_local_experts?: number;
  num_experts_per_tok?: number;
}

/** Logits [B][T][V] for input ids [B][T], positions 0..T-1, causal attention, no padding. */
export function hfCausalLmReference(config: ReferenceConfig, w: Weights, ids: number[][]): number[][][] {
  const d = config.hidden_size;
  const h = config.num_attention_heads;
  const hkv = config.num_key_value_heads ?? h;
  const dh = d / h;
  const nRep = h / hkv; // repeat_kv: query head j reads kv head floor(j / nRep)
  const eps = config.rms_norm_eps;
  const embed = w['model.embed_tokens.weight']!;
  const lmHead = config.tie_word_embeddings ? embed : w['lm_head.weight']!;
  return ids.map((row) => {
    let hidden = row.map((id) => embed.data.slice(id * d, (id + 1) * d));
    for (let l = 0; l < config.num_hidden_layers; l++) {
      const p = (n: string) => w[`model.layers.${l}.${n}`]!;
      const x = hidden.map((v) => rmsNorm(v, p('input_layernorm.weight').data, eps));
      const q = x.map((v) => linear(p('self_attn.q_proj.weight'), v));
      const k = x.map((v) => linear(p('self_attn.k_proj.weight'), v));
      const vv = x.map((v) => linear(p('self_attn.v_proj.weight'), v));
      const head = (vec: Float64Array, j: number) => vec.slice(j * dh, (j + 1) * dh);
      const qr = q.map((vec, t) => Array.from({ length: h }, (_, j) => rope(head(vec, j), t, config.rope_theta)));
      const kr = k.map((vec, t) => Array.from({ length: hkv }, (_, j) => rope(head(vec, j), t, config.rope_theta)));
      const attnOut = row.map((_, t) => {
        const merged = new Float64Array(d);
        for (let j = 0; j < h; j++) {
          const kvHead = Math.floor(j / nRep);
          const scores = Array.from({ length: t + 1 }, (_, s) => {
            let dot = 0;
            for (let e = 0; e < dh; e++) dot += qr[t]![j]![e]! * kr[s]![kvHead]![e]!;
            return dot / Math.sqrt(dh);
          });
          const max = Math.max(...scores);
          const exps = scores.map((s) => Math.exp(s - max));
          const sum = exps.reduce((a, b) => a + b, 0);
          for (let s = 0; s <= t; s++) for (let e = 0; e < dh; e++) merged[j * dh + e]! += (exps[s]! / sum) * vv[s]![kvHead * dh + e]!;
        }
        return linear(p('self_attn.o_proj.weight'), merged);
      });
      hidden = hidden.map((v, t) => v.map((a, i) => a + attnOut[t]![i]!));
      const y = hidden.map((v) => rmsNorm(v, p('post_attention_layernorm.weight').data, eps));
      const ff = y.map((v) => (config.num_local_experts ? moe(config, p, v) : swiGlu(p('mlp.gate_proj.weight'), p('mlp.up_proj.weight'), p('mlp.down_proj.weight'), v)));
      hidden = hidden.map((v, t) => v.map((a, i) => a + ff[t]![i]!));
    }
    return hidden.map((v) => Array.from(linear(lmHead, rmsNorm(v, w['model.norm.weight']!.data, eps))));
  });
}

function swiGlu(gate: Weights[string], up: Weights[string], down: Weights[string], x: Float64Array): Float64Array {
  const g = linear(gate, x);
  const u = linear(up, x);
  return linear(down, g.map((a, i) => silu(a) * u[i]!));
}

/** MixtralSparseMoeBlock: softmax over all experts, top-k, renormalise, sum of w_e * w2(silu(w1 x) * w3 x). */
function moe(config: ReferenceConfig, p: (n: string) => Weights[string], x: Float64Array): Float64Array {
  const logits = linear(p('block_sparse_moe.gate.weight'), x);
  const max = Math.max(...logits);
  const probs = Array.from(logits, (v) => Math.exp(v - max));
  const z = probs.reduce((a, b) => a + b, 0);
  const ranked = probs.map((v, e) => ({ e, v: v / z })).sort((a, b) => b.v - a.v || a.e - b.e);
  const chosen = ranked.slice(0, config.num_experts_per_tok ?? 2);
  const total = chosen.reduce((a, c) => a + c.v, 0);
  const out = new Float64Array(x.length);
  for (const { e, v } of chosen) {
    const ex = (n: string) => p(`block_sparse_moe.experts.${e}.${n}.weight`);
    const y = swiGlu(ex('w1'), ex('w3'), ex('w2'), x);
    for (let i = 0; i < out.length; i++) out[i]! += (v / total) * y[i]!;
  }
  return out;
}

export interface TinyHfOptions extends SaveHfFolderOptions {
  /** Mixtral layout (block_sparse_moe) instead of Llama's dense mlp. */
  experts?: number;
  tie?: boolean;
  seed?: number;
  /** config.json fields to add or override. */
  config?: Record<string, unknown>;
  /** Older exports saved RoPE's inv_freq buffer in every layer. */
  invFreqBuffers?: boolean;
}

/** Writes a tiny random LlamaForCausalLM (or MixtralForCausalLM) folder and returns its config. */
export async function writeTinyHfCausalLm(dir: string, options: TinyHfOptions = {}): Promise<Record<string, unknown>> {
  const mixtral = options.experts !== undefined;
  const config: Record<string, unknown> = {
    architectures: [mixtral ? 'MixtralForCausalLM' : 'LlamaForCausalLM'],
    model_type: mixtral ? 'mixtral' : 'llama',
    hidden_size: 32,
    intermediate_size: 48,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    vocab_size: 50,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    hidden_act: 'silu',
    tie_word_embeddings: options.tie ?? false,
    max_position_embeddings: 128,
    torch_dtype: 'float32',
    ...(mixtral ? { num_local_experts: options.experts, num_experts_per_tok: 2, sliding_window: null } : {}),
    ...options.config,
  };
  const rng = new Rng(options.seed ?? 7);
  const d = config.hidden_size as number;
  const ff = config.intermediate_size as number;
  const heads = config.num_attention_heads as number;
  const kv = (config.num_key_value_heads as number) ?? heads;
  const dh = d / heads;
  const vocab = config.vocab_size as number;
  const rand = (shape: number[], scale: number, offset = 0) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => offset + scale * (2 * rng.next() - 1)), shape);
  const t: Record<string, tf.Tensor> = { 'model.embed_tokens.weight': rand([vocab, d], 1), 'model.norm.weight': rand([d], 0.2, 1) };
  if (!config.tie_word_embeddings) t['lm_head.weight'] = rand([vocab, d], 0.3);
  for (let l = 0; l < (config.num_hidden_layers as number); l++) {
    const p = `model.layers.${l}.`;
    t[`${p}input_layernorm.weight`] = rand([d], 0.2, 1);
    t[`${p}post_attention_layernorm.weight`] = rand([d], 0.2, 1);
    t[`${p}self_attn.q_proj.weight`] = rand([heads * dh, d], 0.4);
    t[`${p}self_attn.k_proj.weight`] = rand([kv * dh, d], 0.4);
    t[`${p}self_attn.v_proj.weight`] = rand([kv * dh, d], 0.3);
    t[`${p}self_attn.o_proj.weight`] = rand([d, heads * dh], 0.3);
    if (options.invFreqBuffers) t[`${p}self_attn.rotary_emb.inv_freq`] = rand([dh / 2], 1);
    if (mixtral) {
      t[`${p}block_sparse_moe.gate.weight`] = rand([options.experts!, d], 0.5);
      for (let e = 0; e < options.experts!; e++) {
        t[`${p}block_sparse_moe.experts.${e}.w1.weight`] = rand([ff, d], 0.3);
        t[`${p}block_sparse_moe.experts.${e}.w2.weight`] = rand([d, ff], 0.3);
        t[`${p}block_sparse_moe.experts.${e}.w3.weight`] = rand([ff, d], 0.3);
      }
    } else {
      t[`${p}mlp.gate_proj.weight`] = rand([ff, d], 0.3);
      t[`${p}mlp.up_proj.weight`] = rand([ff, d], 0.3);
      t[`${p}mlp.down_proj.weight`] = rand([d, ff], 0.3);
    }
  }
  await saveHfFolder(dir, config, t, options);
  for (const x of Object.values(t)) x.dispose();
  return config;
}
