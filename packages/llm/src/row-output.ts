/** A generated token handed out, with the text it adds (when there is a decoder). */
export interface ReleasedToken {
  token: number;
  text?: string;
}

/**
 * One row's generated tokens and text while it streams. A token is handed out only once it is
 * certain to stay: while the text ends with the start of a stop string (or a half-decoded
 * character, U+FFFD), the tokens that reach into that tail are held back, so what was streamed
 * never has to be taken back. Text positions assume decoding is prefix-stable: decode(ids[0..k])
 * is a prefix of decode(ids), as it is for word, BPE and SentencePiece decoders once whole
 * characters are decoded.
 */
export class RowOutput {
  private readonly ids: number[] = [];
  private released = 0;
  /** Characters of the text already handed out. */
  private textOut = 0;
  private text = '';

  constructor(
    private readonly decode: ((ids: number[]) => string) | undefined,
    private readonly stopStrings: readonly string[],
  ) {}

  /**
   * Adds a generated token. Returns the tokens now certain to stay and, when the text now contains a
   * stop string, where it starts (the row is over: call `end(stopAt)`).
   */
  push(id: number): { released: ReleasedToken[]; stopAt?: number } {
    this.ids.push(id);
    if (!this.decode) return { released: this.release(Infinity) };
    this.text = this.decode(this.ids);
    const stopAt = firstStop(this.text, this.stopStrings);
    if (stopAt !== undefined) return { released: [], stopAt };
    return { released: this.release(this.text.length - this.heldBack()) };
  }

  /**
   * Ends the row: hands out every remaining token, or with `cut` (a stop string's start) only those
   * that end before it. `text` is the rest of the row's text (cut before the stop string).
   */
  end(cut?: number): { released: ReleasedToken[]; text?: string } {
    const released = this.release(cut ?? Infinity);
    if (!this.decode) return { released };
    const final = cut === undefined ? this.text : this.text.slice(0, cut);
    const text = final.slice(this.textOut);
    this.textOut = Math.max(this.textOut, final.length);
    return { released, text };
  }

  /** Hands out held tokens whose text ends at or before `limit` (all of them when limit is Infinity). */
  private release(limit: number): ReleasedToken[] {
    const out: ReleasedToken[] = [];
    while (this.released < this.ids.length) {
      const token = this.ids[this.released]!;
      if (!this.decode) {
        out.push({ token });
        this.released++;
        continue;
      }
      const end = this.decode(this.ids.slice(0, this.released + 1)).length;
      if (end > limit) break;
      out.push({ token, text: this.text.slice(this.textOut, Math.max(this.textOut, end)) });
      this.textOut = Math.max(this.textOut, end);
      this.released++;
    }
    return out;
  }

  /** Length of the text's tail that may still become a stop string or a whole character. */
  private heldBack(): number {
    const text = this.text;
    let held = 0;
    for (const stop of this.stopStrings)
      for (let k = Math.min(stop.length - 1, text.length); k > held; k--)
        if (text.endsWith(stop.slice(0, k))) {
          held = k;
          break;
        }
    let partial = 0;
    while (partial < text.length && text[text.length - 1 - partial] === '\uFFFD') partial++;
    return Math.max(held, partial);
  }
}

/** Where the earliest stop string starts in the text, if any does. */
export function firstStop(text: string, stopStrings: readonly string[]): number | undefined {
  let first: number | undefined;
  for (const stop of stopStrings) {
    const at = text.indexOf(stop);
    if (at >= 0 && (first === undefined || at < first)) first = at;
  }
  return first;
}
