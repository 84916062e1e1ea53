import * as ort from './ort-loader';
import { OnnxModelError, REEXPORT_HINT } from './manifest';

/**
 * The KV cache of a decoder written on GroupQueryAttention (mllm.json `llm.cache` 'prefix'),
 * held in this process with each row's keys as a prefix of its buffer.
 *
 * One buffer per cache input, [B, Hkv, C, dh] with C = prompt + new tokens, allocated once and fed
 * whole as `past_key_values.*`: GroupQueryAttention reads row b's first `length[b]` positions
 * (its attention_mask sum tells it how many), whatever C is, so nothing moves as the cache grows.
 * Each call's rotated keys and values come back as `new_key_values.*` [B, T, Hkv dh] and are
 * written behind each row's own length (the graph returns a row's real positions first). The
 * `present.*` outputs are left unfetched:
 * onnxruntime-node copies every output it returns, and the whole cache per layer per token is
 * what this avoids. Shapes: B batch, Hkv kv heads, C capacity, T new positions, dh head width.
 */
export class PrefixKvCache {
  private readonly buffers: Float32Array[];
  private readonly lengths: number[];
  private readonly batch: number;
  private readonly kvHeads: number;
  private readonly headDim: number;
  readonly capacity: number;

  constructor(
    /** The decoder's past inputs, `past_key_values.{i}.{key,value}`. */
    readonly names: readonly string[],
    shape: { batch: number; kvHeads: number; headDim: number; capacity: number },
  ) {
    ({ batch: this.batch, kvHeads: this.kvHeads, headDim: this.headDim, capacity: this.capacity } = shape);
    this.buffers = names.map(() => new Float32Array(this.batch * this.kvHeads * this.capacity * this.headDim));
    this.lengths = new Array<number>(this.batch).fill(0);
  }

  /** Cached positions of each row. */
  get rowLengths(): readonly number[] {
    return this.lengths;
  }

  /** The past inputs: the whole buffers, [B, Hkv, C, dh]. */
  feeds(): Record<string, ort.Tensor> {
    const dims = [this.batch, this.kvHeads, this.capacity, this.headDim];
    return Object.fromEntries(this.names.map((name, i) => [name, new ort.Tensor('float32', this.buffers[i]!, dims)]));
  }

  /**
   * Writes one call's keys and values, `steps[name]` [B, T, Hkv dh], behind each row's cached ones:
   * the first `real[b]` of row b's T positions (the rest are its padding, which the graph puts last).
   */
  append(steps: Record<string, ort.Tensor>, real: readonly number[]): void {
    const first = steps[this.names[0]!];
    const t = first?.dims[1] ?? 0;
    const width = this.kvHeads * this.headDim;
    real.forEach((n, b) => {
      if (this.lengths[b]! + n > this.capacity)
        throw new OnnxModelError(`the KV cache holds ${this.capacity} positions per row; row ${b} would need ${this.lengths[b]! + n}`);
    });
    this.names.forEach((name, i) => {
      const step = steps[name];
      if (!step || step.dims.join() !== [this.batch, t, width].join())
        throw new OnnxModelError(`the decoder's new values for ${name} are ${step ? `[${step.dims.join(', ')}]` : 'missing'}, expected [${this.batch}, ${t}, ${width}]; ${REEXPORT_HINT}`);
      const data = step.data as Float32Array;
      const buffer = this.buffers[i]!;
      for (let b = 0; b < this.batch; b++)
        for (let p = 0; p < real[b]!; p++)
          for (let h = 0; h < this.kvHeads; h++) {
            const from = ((b * t + p) * this.kvHeads + h) * this.headDim;
            buffer.set(data.subarray(from, from + this.headDim), ((b * this.kvHeads + h) * this.capacity + this.lengths[b]! + p) * this.headDim);
          }
    });
    real.forEach((n, b) => (this.lengths[b]! += n));
  }
}
