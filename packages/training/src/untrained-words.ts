import type { LlavaSample } from '@mllm/data';
import type { TextTokenizer } from '@mllm/tokenizer';

/** A chain sample whose reply has words that carry no loss (a counterfactual chain's altered descriptions). */
export type ChainSample = LlavaSample & { untrainedWords?: number[] };

/**
 * Clears the loss on `words` (indices into `reply` split at spaces) of the reply that ends a
 * templated conversation, in place. The reply's tokens are the last run of trained tokens,
 * which must start with `encode(reply)`; word k's tokens run from the count `encode` gives the
 * words before it to the count it gives through it. A tokenizer whose tokens do not add up that
 * way (one that merges across spaces) is refused rather than masking the wrong tokens.
 */
export function untrainReplyWords(tokenizer: TextTokenizer, reply: string, words: readonly number[], ids: readonly number[], lossMask: number[]): void {
  const replyIds = tokenizer.encode(reply);
  let i = lossMask.length - 1;
  while (i >= 0 && lossMask[i] !== 1) i--;
  while (i >= 0 && lossMask[i] === 1) i--;
  const start = i + 1;
  const refuse = (why: string) => {
    throw new Error(`counterfactual chains: ${why}; untrained words need a tokenizer whose tokens split at the reply's spaces (the Shapes world's "word" tokenizer does)`);
  };
  if (replyIds.some((id, k) => ids[start + k] !== id)) refuse('the reply\'s tokens are not where the chat template\'s loss mask puts the last reply');
  const split = reply.split(' ');
  // token counts of the first n words, each prefix encoded once (word w and w + 1 share theirs)
  const counts = new Map<number, number>([[0, 0]]);
  const upTo = (n: number): number => {
    const known = counts.get(n);
    if (known !== undefined) return known;
    const prefix = tokenizer.encode(split.slice(0, n).join(' '));
    if (prefix.some((id, k) => replyIds[k] !== id)) refuse(`the first ${n} words do not tokenize as the start of the reply`);
    counts.set(n, prefix.length);
    return prefix.length;
  };
  for (const w of words) {
    if (!Number.isInteger(w) || w < 0 || w >= split.length) throw new Error(`counterfactual chains: word ${w} is outside the reply's ${split.length} words`);
    const [from, to] = [upTo(w), upTo(w + 1)];
    if (to <= from) refuse(`word ${w} ("${split[w]}") has no tokens of its own`);
    for (let k = from; k < to; k++) lossMask[start + k] = 0;
  }
}
