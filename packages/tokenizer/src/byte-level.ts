import { SPECIAL_TOKENS } from './special-tokens';

/**
 * GPT-2's byte-level alphabet: every byte as one printable character, so any UTF-8 text is a
 * string over 256 symbols and no word is ever unknown. Printable Latin-1 bytes stand for
 * themselves; the rest (controls, space, ...) take the characters from U+0100 on, in byte order
 * (a space is "Ġ", a line break "Ċ"). The same table as HF `tokenizers`' ByteLevel.
 */
export const BYTE_CHARS: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCharCode(printable(b) ? b : 256 + extra++));
})();

/** GPT-2's pre-tokenization pattern, as HF ByteLevel applies it with use_regex: contractions, words with one leading space, numbers, punctuation runs, spaces. */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const SPECIAL_SPLIT = new RegExp(`(?:${SPECIAL_TOKENS.map(escapeRe).join('|')})`);
const encoder = new TextEncoder();

/**
 * The byte-level words of `text` as HF's pipeline sees them: the special-token literals are cut
 * out (they are added tokens, never merged), each remaining piece is split by GPT2_SPLIT and
 * each part written in BYTE_CHARS. "what color ?" -> ["what", "Ġcolor", "Ġ?"].
 */
export function byteLevelWords(text: string): string[] {
  const out: string[] = [];
  for (const piece of text.split(SPECIAL_SPLIT)) {
    for (const part of piece.match(GPT2_SPLIT) ?? []) {
      let word = '';
      for (const byte of encoder.encode(part)) word += BYTE_CHARS[byte];
      out.push(word);
    }
  }
  return out;
}
