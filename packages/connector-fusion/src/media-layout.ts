import * as tf from '@tensorflow/tfjs';
import { MASKED, type MediaSlot } from '@mllm/core';

// Shapes: B batch rows, T queries, K images per row (the most any row has), N feature
// tokens per image, S = K * N keys per row, I images in the batch, D width.

/**
 * Which image each text position may see, open_flamingo's `media_locations` with
 * `only_attend_immediate_media`: a position attends to the last image whose `<image>` marker
 * is at or before it in its row, and to nothing before the row's first image. Built on the host
 * from the slots, so nothing here needs a gradient.
 */
export class MediaLayout {
  /** Per row, the sequence positions of its images' markers, ascending, and their batch image indices. */
  private readonly rows: { start: number; image: number }[][];
  /** K: the row-local image slots every row's keys are laid out in. */
  readonly imagesPerRow: number;

  constructor(slots: readonly MediaSlot[], readonly batch: number, readonly tokensPerImage: number) {
    this.rows = Array.from({ length: batch }, () => []);
    slots.forEach(({ row, start }, image) => {
      if (row < 0 || row >= batch) throw new RangeError(`media slot ${image} is in row ${row}, outside the batch of ${batch} rows`);
      this.rows[row]!.push({ start, image });
    });
    for (const r of this.rows) r.sort((a, b) => a.start - b.start);
    this.imagesPerRow = Math.max(0, ...this.rows.map((r) => r.length));
  }

  get keyLength(): number {
    return this.imagesPerRow * this.tokensPerImage;
  }

  /**
   * Placement P [B*S, I*N]: row b's k-th image's N tokens go to keys k*N..k*N+N-1 of row b.
   * Rows with fewer than K images keep zero keys there, which the mask hides.
   */
  placement(): Float32Array {
    const n = this.tokensPerImage;
    const images = this.rows.reduce((a, r) => a + r.length, 0);
    const s = this.keyLength;
    const p = new Float32Array(this.batch * s * images * n);
    this.rows.forEach((r, b) =>
      r.forEach(({ image }, k) => {
        for (let j = 0; j < n; j++) p[(b * s + k * n + j) * images * n + image * n + j] = 1;
      }),
    );
    return p;
  }

  /** Row-local image each query sees, -1 for none; query t is sequence position past + t. */
  visibleImage(past: number, queries: number): number[][] {
    return this.rows.map((r) =>
      Array.from({ length: queries }, (_, t) => {
        let k = -1;
        r.forEach(({ start }, i) => {
          if (start <= past + t) k = i;
        });
        return k;
      }),
    );
  }

  /** Additive key mask [B, 1, T, S] and a 0/1 has-media gate [B, T, 1] for one call. */
  masks(past: number, queries: number): { mask: tf.Tensor4D; hasMedia: tf.Tensor3D } {
    const n = this.tokensPerImage;
    const s = this.keyLength;
    const visible = this.visibleImage(past, queries);
    const mask = new Float32Array(this.batch * queries * s).fill(MASKED);
    const has = new Float32Array(this.batch * queries);
    visible.forEach((row, b) =>
      row.forEach((k, t) => {
        if (k < 0) return;
        has[b * queries + t] = 1;
        mask.fill(0, (b * queries + t) * s + k * n, (b * queries + t) * s + (k + 1) * n);
      }),
    );
    return { mask: tf.tensor4d(mask, [this.batch, 1, queries, s]), hasMedia: tf.tensor3d(has, [this.batch, queries, 1]) };
  }
}

/**
 * Lays the batch's image tokens [I, N, D] out per row as keys [B, S, D] with a 0/1 placement
 * matMul, which stays on the fast 2-D kernel; the gradient P^T dy uses a transpose made up front
 * because tfjs's gather/scatter gradients are missing on wasm.
 */
export function placeMedia(tokens: tf.Tensor3D, layout: MediaLayout): tf.Tensor3D {
  const [images, n, d] = tokens.shape;
  if (n !== layout.tokensPerImage) throw new Error(`placeMedia: images have ${n} tokens, the layout expects ${layout.tokensPerImage}`);
  const p = tf.tensor2d(layout.placement(), [layout.batch * layout.keyLength, images * n]);
  const pT = tf.tidy(() => p.transpose()) as tf.Tensor2D;
  // saved tensors outlive this call (the engine keeps copies for the backward pass), so the originals are freed here
  const place = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([pT]);
    return {
      value: tf.matMul(p, x as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor, [savedT]: tf.Tensor[]) => tf.matMul(savedT as tf.Tensor2D, dy as tf.Tensor2D),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor2D;
  const flat = tokens.reshape([images * n, d]);
  const placed = place(flat);
  const out = placed.reshape([layout.batch, layout.keyLength, d]) as tf.Tensor3D;
  tf.dispose([p, pT, flat, placed]);
  return out;
}
