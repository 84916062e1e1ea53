/**
 * A loss mask over the tokens of one whole text from character spans of it.
 *
 * The ids are those of the whole render, exactly as inference tokenizes the same conversation:
 * tokenizing the pieces separately would split a token that crosses a span edge (SentencePiece's
 * `▁The` after Mistral's `[/INST]`) and train ids the model never sees. A token is trained when
 * its characters overlap a span, which is how transformers maps `{% generation %}` blocks to
 * `assistant_masks` (char_to_token of the block's first and last character).
 *
 * @huggingface/tokenizers gives no character offsets, so a span edge is located by tokenizing
 * the text before it: the tokens of `text.slice(0, edge)` that agree with the whole text's are
 * the tokens that lie before the edge; the first that differs is the one that crosses it (or
 * starts at it). Span ends here always follow a special token, which is a token of its own, so
 * the end edge is exact.
 */
export function spanMask(text: string, ids: readonly number[], spans: readonly (readonly [number, number])[], encode: (text: string) => number[]): number[] {
  const mask = new Array<number>(ids.length).fill(0);
  const tokensBefore = (edge: number): number => {
    if (edge <= 0) return 0;
    if (edge >= text.length) return ids.length;
    const prefix = encode(text.slice(0, edge));
    let n = 0;
    while (n < prefix.length && n < ids.length && prefix[n] === ids[n]) n++;
    return n;
  };
  for (const [start, end] of spans) {
    const from = tokensBefore(start);
    const to = tokensBefore(end);
    for (let i = from; i < to; i++) mask[i] = 1;
  }
  return mask;
}
