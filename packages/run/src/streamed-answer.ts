/**
 * An answer's text as it streams in, the rule of `mllm chat --runtime onnx` and of the
 * playground: after each token the whole answer is decoded again, and what that adds to the text
 * already shown is the new piece. A word tokenizer's piece is a word after its space; a
 * byte-level BPE token can be part of a word (" col" + "our") or end inside a character, whose
 * bytes wait until it is whole. Decoding a token alone would show " col our" or U+FFFD.
 */
export class StreamedAnswer {
  readonly ids: number[] = [];
  /** The pieces shown so far; joined, they are `text`. */
  readonly pieces: string[] = [];
  /** For each piece, how many of `ids` had been generated when it was shown. */
  private readonly pieceEnds: number[] = [];
  text = '';
  /** The whole answer decoded, a held-back character included. */
  decoded = '';

  constructor(private readonly decode: (ids: number[]) => string) {}

  /** Adds a generated token; returns the text it shows ('' when it shows nothing yet). */
  push(id: number): string {
    this.ids.push(id);
    this.decoded = this.decode(this.ids);
    return this.decoded.endsWith('\uFFFD') ? '' : this.show(this.decoded);
  }

  /** Shows whatever the answer's decoded text still holds back (a character left incomplete at the end). */
  finish(): string {
    return this.show(this.decoded);
  }

  private show(text: string): string {
    if (text.length <= this.text.length) return '';
    const piece = text.slice(this.text.length);
    this.text = text;
    this.pieces.push(piece);
    this.pieceEnds.push(this.ids.length);
    return piece;
  }

  /**
   * Each piece's probability from each token's (`tokenProbabilities`, one per id): the product
   * over the tokens that made it, as the probability of a word is that of its pieces.
   */
  pieceProbabilities(tokenProbabilities: readonly number[]): number[] {
    let from = 0;
    return this.pieceEnds.map((end) => {
      let p = 1;
      for (let k = from; k < end; k++) p *= tokenProbabilities[k]!;
      from = end;
      return p;
    });
  }
}
