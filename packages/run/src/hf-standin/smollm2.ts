/**
 * SmolLM2 (HuggingFaceTB/SmolLM2-135M, -360M and their -Instruct variants, Apache-2.0): the
 * files of the released repositories other than the weights and tokenizer.json, as published
 * (huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct/blob/main/config.json and siblings;
 * the shape fields cross-checked against LlamaConfig dumps of the loaded models).
 */

/** The 17 added tokens at ids 0..16 of every SmolLM2 tokenizer (StarCoder-style code markers after the chat markers). */
export const SMOLLM2_SPECIAL_TOKENS = [
  '<|endoftext|>',
  '<|im_start|>',
  '<|im_end|>',
  '<repo_name>',
  '<reponame>',
  '<file_sep>',
  '<filename>',
  '<gh_stars>',
  '<issue_start>',
  '<issue_comment>',
  '<issue_closed>',
  '<jupyter_start>',
  '<jupyter_text>',
  '<jupyter_code>',
  '<jupyter_output>',
  '<jupyter_script>',
  '<empty_output>',
] as const;

/** The instruct models' ChatML template, with SmolLM's default system prompt (tokenizer_config.json "chat_template"). */
export const SMOLLM2_CHAT_TEMPLATE =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}" +
  "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

export type SmolLm2Size = '135M' | '360M';

/** The architecture fields that differ between the two sizes. */
const SIZES: Record<SmolLm2Size, Record<string, unknown>> = {
  '135M': { hidden_size: 576, initializer_range: 0.041666666666666664, intermediate_size: 1536, num_attention_heads: 9, num_hidden_layers: 30, num_key_value_heads: 3 },
  '360M': { hidden_size: 960, initializer_range: 0.02, intermediate_size: 2560, num_attention_heads: 15, num_hidden_layers: 32, num_key_value_heads: 5 },
};

/** config.json of HuggingFaceTB/SmolLM2-{size}[-Instruct]. */
export function smolLm2Config(size: SmolLm2Size, instruct: boolean): Record<string, unknown> {
  const ids = instruct ? { bos_token_id: 1, eos_token_id: 2 } : { bos_token_id: 0, eos_token_id: 0 };
  const config: Record<string, unknown> = {
    architectures: ['LlamaForCausalLM'],
    attention_bias: false,
    attention_dropout: 0.0,
    ...ids,
    hidden_act: 'silu',
    ...SIZES[size],
    is_llama_config: true,
    max_position_embeddings: 8192,
    model_type: 'llama',
    ...(instruct && { pad_token_id: 2 }),
    pretraining_tp: 1,
    rms_norm_eps: 1e-5,
    rope_interleaved: false,
    rope_scaling: null,
    rope_theta: 100000,
    tie_word_embeddings: true,
    torch_dtype: 'bfloat16',
    transformers_version: instruct ? '4.42.3' : '4.40.1',
    use_cache: true,
    vocab_size: 49152,
  };
  // keys in the order save_pretrained writes them (sorted)
  return Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** generation_config.json. */
export function smolLm2GenerationConfig(instruct: boolean): Record<string, unknown> {
  return instruct
    ? { _from_model_config: true, bos_token_id: 1, eos_token_id: 2, pad_token_id: 2, transformers_version: '4.42.3' }
    : { _from_model_config: true, bos_token_id: 0, eos_token_id: 0, transformers_version: '4.40.1' };
}

/** tokenizer_config.json: GPT2Tokenizer with the 17 added tokens; the instruct models use ChatML markers as bos/eos/pad. */
export function smolLm2TokenizerConfig(instruct: boolean): Record<string, unknown> {
  const addedTokensDecoder = Object.fromEntries(
    SMOLLM2_SPECIAL_TOKENS.map((content, id) => [String(id), { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true }]),
  );
  const tokens = instruct
    ? { additional_special_tokens: ['<|im_start|>', '<|im_end|>'], bos_token: '<|im_start|>', eos_token: '<|im_end|>', pad_token: '<|im_end|>', unk_token: '<|endoftext|>' }
    : { additional_special_tokens: [...SMOLLM2_SPECIAL_TOKENS], bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>' };
  return {
    add_prefix_space: false,
    added_tokens_decoder: addedTokensDecoder,
    additional_special_tokens: tokens.additional_special_tokens,
    bos_token: tokens.bos_token,
    chat_template: SMOLLM2_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: tokens.eos_token,
    model_max_length: 8192,
    ...('pad_token' in tokens && { pad_token: tokens.pad_token }),
    tokenizer_class: 'GPT2Tokenizer',
    unk_token: tokens.unk_token,
    vocab_size: 49152,
  };
}

/** special_tokens_map.json: the special tokens of tokenizer_config.json, each as an AddedToken object. */
export function smolLm2SpecialTokensMap(instruct: boolean): Record<string, unknown> {
  const config = smolLm2TokenizerConfig(instruct);
  const token = (content: unknown) => ({ content, lstrip: false, normalized: false, rstrip: false, single_word: false });
  const map: Record<string, unknown> = { additional_special_tokens: config.additional_special_tokens };
  for (const key of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) if (config[key] !== undefined) map[key] = token(config[key]);
  return map;
}
