import * as tf from '@tensorflow/tfjs';
import { imageInput, type ModelImage, type MultimodalModel } from '@mllm/model';

/** Bytes of encoder features a stage keeps by default: ~870 images of SigLIP-B/16 (196 x 768 float32). */
export const DEFAULT_FEATURE_CACHE_BYTES = 512 * 1024 ** 2;

/**
 * Encoder features of a frozen encoder, computed once per image and reused across steps and
 * epochs. `prepare` runs before a step's loss closure, i.e. outside `tf.variableGrads`, so the
 * encoder's forward records no gradient tape and keeps none of its activations for a backward
 * pass it will never get; the closure then reads the features from here through the model's
 * `featureSource`. Keyed by the image's pixel array (the Shapes world and LLaVA sources hand
 * out the same array for an image every time); least recently used entries go past `maxBytes`,
 * except the current batch's, which stay until the next `prepare`.
 */
export class FrozenFeatures {
  /** Per image [1, N, D_enc], in least-recently-used-first order. */
  private readonly cache = new Map<Float32Array, tf.Tensor3D>();
  private bytes = 0;
  private pinned = new Set<Float32Array>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly model: MultimodalModel,
    readonly maxBytes: number = DEFAULT_FEATURE_CACHE_BYTES,
  ) {}

  /** Encodes the batch's images not cached yet and pins the batch's entries until the next call. */
  prepare(images: ModelImage[]): void {
    this.pinned = new Set(images.map((image) => this.keyOf(image)));
    this.fill(images, true);
    this.evict();
  }

  /** Features [n, N, D_enc] of images of one canvas shape, as `model.encodeFeatures` gives them. */
  features(images: ModelImage[]): tf.Tensor3D {
    this.fill(images, false);
    const rows = images.map((image) => this.touch(this.keyOf(image)));
    const out = rows.length === 1 ? tf.clone(rows[0]!) : tf.concat(rows, 0);
    this.evict();
    return out;
  }

  /** Cached images and their bytes. */
  get size(): { images: number; bytes: number } {
    return { images: this.cache.size, bytes: this.bytes };
  }

  /** Frees every cached feature. */
  dispose(): void {
    for (const t of this.cache.values()) t.dispose();
    this.cache.clear();
    this.bytes = 0;
    this.pinned.clear();
  }

  private keyOf(image: ModelImage): Float32Array {
    return imageInput(image, this.model.encoder.imageSize).pixels;
  }

  /**
   * Encodes, in one call, the images of `images` not cached (each distinct pixel array once).
   * Hits are counted where a batch is prepared, so a prepared batch's lookups count once.
   */
  private fill(images: ModelImage[], countHits: boolean): void {
    const missing = new Map<Float32Array, ModelImage>();
    for (const image of images) {
      const key = this.keyOf(image);
      // an image twice in one batch is encoded once: its second lookup is a hit
      if (this.cache.has(key) || missing.has(key)) this.hits += countHits ? 1 : 0;
      else missing.set(key, image);
    }
    if (missing.size === 0) return;
    this.misses += missing.size;
    const encoded = this.model.encodeFeatures([...missing.values()]); // [m, N, D_enc]
    const rows = tf.split(encoded, missing.size, 0) as tf.Tensor3D[];
    encoded.dispose();
    [...missing.keys()].forEach((key, i) => {
      this.cache.set(key, tf.keep(rows[i]!)); // kept past a surrounding tidy (a held-out loss)
      this.bytes += rows[i]!.size * 4;
    });
  }

  private touch(key: Float32Array): tf.Tensor3D {
    const t = this.cache.get(key)!;
    this.cache.delete(key);
    this.cache.set(key, t);
    return t;
  }

  private evict(): void {
    for (const [key, t] of this.cache) {
      if (this.bytes <= this.maxBytes) return;
      if (this.pinned.has(key)) continue;
      this.cache.delete(key);
      this.bytes -= t.size * 4;
      t.dispose();
    }
  }
}
