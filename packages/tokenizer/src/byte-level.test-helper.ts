/**
 * A byte-level BPE tokenizer.json with no merges (one token per UTF-8 byte, GPT-2's byte-to-
 * character table, as Llama 3, Qwen and SmolLM encode) plus a model family's special tokens as
 * added tokens. Every character boundary is a token boundary, so a loss mask decoded run by run
 * shows exactly which characters a chat template's mask covers.
 */
function bytesToUnicode(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(printable(b) ? b : 256 + extra++));
  return out;
}

export interface FamilyTokens {
  /** Added tokens marked special, in id order after the 256 bytes. */
  specials: readonly string[];
  /** Added tokens not marked special (Qwen 3's <think>, </think>). */
  plain?: readonly string[];
  bos?: string | null;
  eos: string;
  pad?: string | null;
}

export function byteLevelFiles(family: FamilyTokens, chatTemplate: string): { tokenizer: Record<string, unknown>; config: Record<string, unknown> } {
  const bytes = bytesToUnicode();
  const added = [...family.specials.map((content) => ({ content, special: true })), ...(family.plain ?? []).map((content) => ({ content, special: false }))];
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added.map((t, i) => ({ id: 256 + i, content: t.content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: t.special })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(bytes.map((c, i) => [c, i])),
      merges: [],
    },
  };
  const config = { bos_token: family.bos ?? null, eos_token: family.eos, pad_token: family.pad ?? null, unk_token: null, clean_up_tokenization_spaces: false, chat_template: chatTemplate };
  return { tokenizer, config };
}
