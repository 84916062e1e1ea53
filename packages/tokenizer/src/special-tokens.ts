/** Special tokens with fixed ids: every tokenizer built here puts them at 0-7, in this order. */
export const SPECIAL_TOKENS = ['<pad>', '<bos>', '<eos>', '<unk>', '<image>', '<|user|>', '<|assistant|>', '<|end|>'] as const;

export type SpecialToken = (typeof SPECIAL_TOKENS)[number];

/** Ids of the special tokens, by role. */
export interface SpecialIds {
  pad: number;
  bos: number;
  eos: number;
  unk: number;
  image: number;
  user: number;
  assistant: number;
  end: number;
}

export const SPECIAL_IDS: Readonly<SpecialIds> = {
  pad: 0,
  bos: 1,
  eos: 2,
  unk: 3,
  image: 4,
  user: 5,
  assistant: 6,
  end: 7,
};

/** Punctuation split off as its own token. */
export const PUNCTUATION = '.,?!:;';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const SPECIAL_RE = new RegExp(`(${SPECIAL_TOKENS.map(escapeRe).join('|')})`);
const PUNCT_RE = new RegExp(`([${escapeRe(PUNCTUATION)}])`, 'g');

/**
 * Pre-tokenization: special-token literals (e.g. "<image>") are kept whole; the rest is
 * lower-cased, punctuation in PUNCTUATION is split off, and text is split on whitespace.
 * "<image>\nWhat color?" -> ["<image>", "what", "color", "?"].
 */
export function preTokenize(text: string): string[] {
  const out: string[] = [];
  for (const [i, part] of text.split(SPECIAL_RE).entries()) {
    if (i % 2 === 1) {
      out.push(part);
      continue;
    }
    for (const w of part.toLowerCase().replace(PUNCT_RE, ' $1 ').split(/\s+/)) if (w) out.push(w);
  }
  return out;
}
