import { ConfigError, type ConfigIssue } from '@mllm/core';

/** HF architectures whose checkpoints load into the `causal` backbone, parameter for parameter. */
export const SUPPORTED_HF_CAUSAL_ARCHITECTURES = ['LlamaForCausalLM', 'MistralForCausalLM', 'MixtralForCausalLM'] as const;
export type HfCausalArchitecture = (typeof SUPPORTED_HF_CAUSAL_ARCHITECTURES)[number];

/** What an HF config.json says about the `causal` backbone, in our config's terms. */
export interface HfCausalSpec {
  architecture: HfCausalArchitecture;
  /** The `llm` config (type causal) that reproduces the checkpoint's shape. */
  llm: Record<string, unknown> & { type: 'causal' };
  vocabSize: number;
  /** lm_head shares embed_tokens' weight (HF `tie_word_embeddings`). */
  tieWordEmbeddings: boolean;
  /** Mistral-style sliding-window attention: sequences longer than this would attend differently. */
  slidingWindow?: number;
}

/**
 * Defaults of each HF config class (configuration_llama.py, _mistral.py, _mixtral.py): a field
 * absent from config.json means these values, as in transformers.
 */
const DEFAULTS: Record<HfCausalArchitecture, Record<string, unknown>> = {
  LlamaForCausalLM: {
    vocab_size: 32000, hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32,
    rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: false, hidden_act: 'silu',
  },
  MistralForCausalLM: {
    vocab_size: 32000, hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8,
    rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: false, hidden_act: 'silu', sliding_window: 4096,
  },
  MixtralForCausalLM: {
    vocab_size: 32000, hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8,
    rms_norm_eps: 1e-5, rope_theta: 1e6, tie_word_embeddings: false, hidden_act: 'silu', sliding_window: null,
    num_local_experts: 8, num_experts_per_tok: 2,
  },
};

const MODEL_TYPES: Record<string, HfCausalArchitecture> = { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', mixtral: 'MixtralForCausalLM' };

/**
 * Reads an HF causal-LM config.json into our `causal` config. Anything the backbone would
 * compute differently from transformers (rope scaling, attention biases, another activation,
 * a head_dim that is not hidden_size / heads, quantisation) is refused by name rather than
 * silently approximated.
 */
export function causalSpecFromHf(hf: Record<string, unknown>, source = 'config.json'): HfCausalSpec {
  const issues: ConfigIssue[] = [];
  const architecture = pickArchitecture(hf, source);
  const c = { ...DEFAULTS[architecture], ...Object.fromEntries(Object.entries(hf).filter(([, v]) => v !== undefined)) };
  const int = (key: string, min = 1): number => {
    const v = c[key];
    if (!Number.isInteger(v) || (v as number) < min) issues.push({ path: key, message: `must be an integer >= ${min}, got ${JSON.stringify(v)}` });
    return v as number;
  };
  const positive = (key: string): number => {
    const v = c[key];
    if (typeof v !== 'number' || !(v > 0)) issues.push({ path: key, message: `must be a positive number, got ${JSON.stringify(v)}` });
    return v as number;
  };
  const dim = int('hidden_size', 4);
  const layers = int('num_hidden_layers');
  const heads = int('num_attention_heads');
  const kvHeads = c.num_key_value_heads == null ? heads : int('num_key_value_heads');
  const mlpHidden = int('intermediate_size');
  const vocabSize = int('vocab_size');
  const ropeTheta = positive('rope_theta');
  const normEps = positive('rms_norm_eps');

  const unsupported = (path: string, message: string) => issues.push({ path, message: `${message}; the causal backbone cannot reproduce it, so loading would give different logits` });
  if (c.hidden_act !== 'silu' && c.hidden_act !== 'swish') unsupported('hidden_act', `is ${JSON.stringify(c.hidden_act)}, only "silu" is supported`);
  const rope = c.rope_scaling as { rope_type?: unknown; type?: unknown } | null | undefined;
  const ropeType = rope?.rope_type ?? rope?.type;
  if (rope != null && ropeType !== 'default') unsupported('rope_scaling', `is ${JSON.stringify(rope)} (RoPE scaling is not implemented)`);
  if (c.attention_bias === true) unsupported('attention_bias', 'is true (q/k/v/o biases)');
  if (c.mlp_bias === true) unsupported('mlp_bias', 'is true (MLP biases)');
  if (c.partial_rotary_factor != null && c.partial_rotary_factor !== 1) unsupported('partial_rotary_factor', `is ${String(c.partial_rotary_factor)} (partial RoPE)`);
  if (c.quantization_config != null) unsupported('quantization_config', 'is set (quantised weights)');
  if (Number.isInteger(dim) && Number.isInteger(heads)) {
    if (dim % heads !== 0) issues.push({ path: 'num_attention_heads', message: `hidden_size ${dim} is not divisible by num_attention_heads ${heads}` });
    else if ((dim / heads) % 2 !== 0) issues.push({ path: 'num_attention_heads', message: `head size ${dim / heads} is odd; RoPE needs an even one` });
    if (c.head_dim != null && c.head_dim !== dim / heads) unsupported('head_dim', `is ${String(c.head_dim)}, not hidden_size / num_attention_heads = ${dim / heads}`);
  }
  if (Number.isInteger(heads) && Number.isInteger(kvHeads) && heads % kvHeads !== 0)
    issues.push({ path: 'num_key_value_heads', message: `${kvHeads} does not divide num_attention_heads ${heads}` });

  const tieWordEmbeddings = c.tie_word_embeddings === true;
  const llm: HfCausalSpec['llm'] = { type: 'causal', dim, layers, heads, kvHeads, mlpHidden, ropeTheta, normEps, tieWordEmbeddings };
  if (architecture === 'MixtralForCausalLM') {
    const experts = int('num_local_experts');
    const topK = int('num_experts_per_tok');
    if (Number.isInteger(experts) && Number.isInteger(topK) && topK > experts) issues.push({ path: 'num_experts_per_tok', message: `${topK} exceeds num_local_experts ${experts}` });
    llm.ffn = { type: 'moe', experts, topK };
  }
  let slidingWindow: number | undefined;
  if (architecture !== 'LlamaForCausalLM' && c.sliding_window != null && c.use_sliding_window !== false) slidingWindow = int('sliding_window');
  if (issues.length) throw new ConfigError(issues, `HF config ${source} (${architecture}) cannot be imported`);
  return { architecture, llm, vocabSize, tieWordEmbeddings, slidingWindow };
}

function pickArchitecture(hf: Record<string, unknown>, source: string): HfCausalArchitecture {
  const supported = SUPPORTED_HF_CAUSAL_ARCHITECTURES as readonly string[];
  const listed = Array.isArray(hf.architectures) ? (hf.architectures as unknown[]).filter((a): a is string => typeof a === 'string') : [];
  const found = listed.find((a) => supported.includes(a)) ?? (listed.length === 0 ? MODEL_TYPES[String(hf.model_type)] : undefined);
  if (!found) {
    const named = listed.length ? `architectures ${JSON.stringify(listed)}` : `model_type ${JSON.stringify(hf.model_type)}`;
    throw new ConfigError(
      [{ path: listed.length ? 'architectures' : 'model_type', message: `${named} is not supported; supported: ${SUPPORTED_HF_CAUSAL_ARCHITECTURES.join(', ')}` }],
      `HF config ${source} cannot be imported`,
    );
  }
  return found as HfCausalArchitecture;
}

/**
 * Combines a run config's `llm` (which says `from`) with what the HF config dictates. A field
 * the user also wrote must agree, else it is a config error naming both values; fields the HF
 * config does not fix (training-only options) pass through.
 */
export function mergeHfLlmConfig(user: Record<string, unknown>, spec: HfCausalSpec, path = 'llm'): Record<string, unknown> {
  const issues: ConfigIssue[] = [];
  const { from: _from, ...rest } = user;
  if (rest.type !== undefined && rest.type !== 'causal')
    issues.push({ path: `${path}.type`, message: `is ${JSON.stringify(rest.type)}, but ${spec.architecture} checkpoints load into "causal"` });
  const merged: Record<string, unknown> = { ...rest };
  for (const [key, value] of Object.entries(spec.llm)) {
    if (key === 'type') continue;
    const mine = rest[key];
    if (mine === undefined) merged[key] = value;
    else if (isObject(value) && isObject(mine)) {
      for (const [k, v] of Object.entries(value))
        if (mine[k] !== undefined && mine[k] !== v) issues.push({ path: `${path}.${key}.${k}`, message: `is ${JSON.stringify(mine[k])} but the HF checkpoint has ${JSON.stringify(v)}; remove it (it comes from the checkpoint) or make them equal` });
      merged[key] = { ...mine, ...value };
    } else if (mine !== value) issues.push({ path: `${path}.${key}`, message: `is ${JSON.stringify(mine)} but the HF checkpoint has ${JSON.stringify(value)}; remove it (it comes from the checkpoint) or make them equal` });
  }
  if (!spec.llm.ffn && rest.ffn !== undefined && (rest.ffn as { type?: unknown } | null)?.type !== 'dense') issues.push({ path: `${path}.ffn`, message: `${spec.architecture} has a dense feed-forward; remove ffn` });
  if (issues.length) throw new ConfigError(issues);
  return { ...merged, type: 'causal' };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
