import { MllmError } from '@mllm/core';
import { linear, normal, ones, type PlannedTensor } from './tensor-plan';

/** The config.json fields of a LlamaForCausalLM that decide its tensors. */
interface LlamaShape {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  tie_word_embeddings: boolean;
  initializer_range: number;
}

function llamaShape(config: Record<string, unknown>): LlamaShape {
  const int = (key: string): number => {
    const v = config[key];
    if (!Number.isInteger(v) || (v as number) < 1) throw new MllmError(`stand-in config.json: ${key} must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const heads = int('num_attention_heads');
  return {
    vocab_size: int('vocab_size'),
    hidden_size: int('hidden_size'),
    intermediate_size: int('intermediate_size'),
    num_hidden_layers: int('num_hidden_layers'),
    num_attention_heads: heads,
    num_key_value_heads: config.num_key_value_heads === undefined ? heads : int('num_key_value_heads'),
    tie_word_embeddings: config.tie_word_embeddings === true,
    initializer_range: typeof config.initializer_range === 'number' ? config.initializer_range : 0.02,
  };
}

/**
 * The tensors of a LlamaForCausalLM checkpoint, named as transformers saves them
 * (modeling_llama.py). A tied lm_head is not saved (save_pretrained drops tied weights).
 * Initialised as LlamaPreTrainedModel._init_weights does: every Linear and the embedding
 * N(0, initializer_range), RMSNorm weights 1; so a forward pass of the stand-in is as
 * well-scaled as a freshly initialised transformers model.
 */
export function llamaTensors(config: Record<string, unknown>): PlannedTensor[] {
  const c = llamaShape(config);
  const d = c.hidden_size;
  const headDim = d / c.num_attention_heads;
  if (!Number.isInteger(headDim)) throw new MllmError(`stand-in config.json: hidden_size ${d} is not divisible by num_attention_heads ${c.num_attention_heads}`);
  const kv = c.num_key_value_heads * headDim;
  const w = normal(c.initializer_range);
  const tensors: PlannedTensor[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocab_size, d], init: w }];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const at = `model.layers.${l}`;
    tensors.push(
      { name: `${at}.input_layernorm.weight`, shape: [d], init: ones },
      ...linear(`${at}.self_attn.q_proj`, d, d, w),
      ...linear(`${at}.self_attn.k_proj`, kv, d, w),
      ...linear(`${at}.self_attn.v_proj`, kv, d, w),
      ...linear(`${at}.self_attn.o_proj`, d, d, w),
      { name: `${at}.post_attention_layernorm.weight`, shape: [d], init: ones },
      ...linear(`${at}.mlp.gate_proj`, c.intermediate_size, d, w),
      ...linear(`${at}.mlp.up_proj`, c.intermediate_size, d, w),
      ...linear(`${at}.mlp.down_proj`, d, c.intermediate_size, w),
    );
  }
  tensors.push({ name: 'model.norm.weight', shape: [d], init: ones });
  if (!c.tie_word_embeddings) tensors.push(...linear('lm_head', c.vocab_size, d, w));
  return tensors;
}
