import * as ort from './ort-loader';

/** Large negative instead of -Infinity, as @mllm/core's MASKED. */
const MASKED = -1e9;

/**
 * Flamingo's media layout on the host, as @mllm/connector-fusion's MediaLayout: row b's k-th
 * image's N tokens are keys k*N..k*N+N-1 of that row, and a position sees only the last image
 * whose `<image>` marker is at or before it. Shapes: B rows, K images per row (the most any row
 * has), N tokens per image, S = K * N, T queries, D width.
 */
export class HostMediaLayout {
  private readonly rows: { start: number; image: number }[][];
  readonly imagesPerRow: number;

  /** `starts[i]` = [row, position of image i's marker]. */
  constructor(starts: readonly [number, number][], readonly batch: number, readonly tokensPerImage: number) {
    this.rows = Array.from({ length: batch }, () => []);
    starts.forEach(([row, start], image) => this.rows[row]!.push({ start, image }));
    for (const r of this.rows) r.sort((a, b) => a.start - b.start);
    this.imagesPerRow = Math.max(0, ...this.rows.map((r) => r.length));
  }

  /** Keys per row; one zero key when the batch has no image, so the graph's shapes stay non-empty. */
  get keyLength(): number {
    return Math.max(1, this.imagesPerRow * this.tokensPerImage);
  }

  /** features [I, N, D] -> media [B, S, D]; missing images are zero keys, which the mask hides. */
  media(features: Float32Array | undefined, d: number): ort.Tensor {
    const n = this.tokensPerImage;
    const s = this.keyLength;
    const out = new Float32Array(this.batch * s * d);
    if (features)
      this.rows.forEach((r, b) => r.forEach(({ image }, k) => out.set(features.subarray(image * n * d, (image + 1) * n * d), (b * s + k * n) * d)));
    return new ort.Tensor('float32', out, [this.batch, s, d]);
  }

  /** The additive key mask [B, 1, T, S] and has-media gate [B, T, 1] of queries past..past+T-1. */
  masks(past: number, queries: number): { mask: ort.Tensor; present: ort.Tensor } {
    const n = this.tokensPerImage;
    const s = this.keyLength;
    const mask = new Float32Array(this.batch * queries * s).fill(MASKED);
    const present = new Float32Array(this.batch * queries);
    this.rows.forEach((r, b) => {
      for (let t = 0; t < queries; t++) {
        let k = -1;
        r.forEach(({ start }, i) => {
          if (start <= past + t) k = i;
        });
        if (k < 0) continue;
        present[b * queries + t] = 1;
        mask.fill(0, (b * queries + t) * s + k * n, (b * queries + t) * s + (k + 1) * n);
      }
    });
    return { mask: new ort.Tensor('float32', mask, [this.batch, 1, queries, s]), present: new ort.Tensor('float32', present, [this.batch, queries, 1]) };
  }
}
