import * as ort from './ort-loader';
import { OnnxModelError, REEXPORT_HINT } from './manifest';

/**
 * The KV cache of a decode held in this process, grown in place by each call's new keys and
 * values, instead of taking the decoder's `present.*` outputs back every step.
 *
 * onnxruntime-node copies every output it returns into a fresh ArrayBuffer: fetching `present.*`
 * costs an allocation and a copy of the whole cache per layer per token (12.5 MB a token at 256
 * cached positions of SmolLM2-135M), and those buffers are garbage the next step. The decoder also
 * returns each call's own keys and values (`new_key_values.*`, [B, Hkv, T, dh]); this cache
 * appends them to one buffer per input that grows by doubling, and feeds onnxruntime views of it
 * (inputs are read from JS memory without a copy). Each input is [B, Hkv, P, dh] row-major, so
 * appending T positions moves every (batch, head) block but the first to its wider place, last
 * block first (a memmove inside the buffer, no allocation), then writes the new rows behind each.
 * The values fed are the same as the present outputs would have been, bit for bit.
 * Shapes: B batch, Hkv kv heads, P cached positions, T new positions, dh head width.
 */
export class HostKvCache {
  /** Per input name (`past_key_values.{i}.{key,value}`), a buffer of `capacity` positions per block. */
  private readonly buffers = new Map<string, Float32Array>();
  private capacity = 0;
  private length = 0;

  private readonly batch: number;
  private readonly kvHeads: number;
  private readonly headDim: number;
  /** Positions allocated at the first append (prompt + new tokens: no re-allocation while decoding). */
  private readonly reserve: number;

  constructor(
    /** The decoder's past inputs, `past_key_values.{i}.{key,value}`. */
    readonly names: readonly string[],
    shape: { batch: number; kvHeads: number; headDim: number; reserve?: number },
  ) {
    this.batch = shape.batch;
    this.kvHeads = shape.kvHeads;
    this.headDim = shape.headDim;
    this.reserve = shape.reserve ?? 0;
  }

  /** Cached positions P. */
  get positions(): number {
    return this.length;
  }

  /** The decoder's past inputs: views of the buffers, [B, Hkv, P, dh] each. */
  feeds(): Record<string, ort.Tensor> {
    const size = this.batch * this.kvHeads * this.length * this.headDim;
    const dims = [this.batch, this.kvHeads, this.length, this.headDim];
    const out: Record<string, ort.Tensor> = {};
    for (const name of this.names) out[name] = new ort.Tensor('float32', (this.buffers.get(name) ?? new Float32Array(0)).subarray(0, size), dims);
    return out;
  }

  /** Appends one call's new keys and values, `steps[name]` [B, Hkv, T, dh] for every input name. */
  append(steps: Record<string, ort.Tensor>): void {
    const first = steps[this.names[0]!];
    if (!first) throw new OnnxModelError(`the decoder returned no ${this.names[0]!.replace('past_key_values', 'new_key_values')}; ${REEXPORT_HINT}`);
    const t = first.dims[2]!;
    const p = this.length;
    const blocks = this.batch * this.kvHeads;
    const rowFloats = this.headDim;
    if (p + t > this.capacity) this.grow(Math.max(p + t, 2 * this.capacity, this.reserve));
    for (const name of this.names) {
      const step = steps[name];
      if (!step || step.dims.join() !== [this.batch, this.kvHeads, t, this.headDim].join())
        throw new OnnxModelError(`the decoder's new values for ${name} are ${step ? `[${step.dims.join(', ')}]` : 'missing'}, expected [${this.batch}, ${this.kvHeads}, ${t}, ${this.headDim}]; ${REEXPORT_HINT}`);
      const buffer = this.buffers.get(name)!;
      const data = step.data as Float32Array;
      // last block first: block j moves right to j (P + T) dh, past everything still to move
      for (let j = blocks - 1; j >= 0; j--) {
        if (j > 0 && p > 0) buffer.copyWithin(j * (p + t) * rowFloats, j * p * rowFloats, (j * p + p) * rowFloats);
        buffer.set(data.subarray(j * t * rowFloats, (j + 1) * t * rowFloats), (j * (p + t) + p) * rowFloats);
      }
    }
    this.length = p + t;
  }

  /** Re-allocates every buffer for `positions` per block, keeping the cached ones. */
  private grow(positions: number): void {
    const floats = this.batch * this.kvHeads * positions * this.headDim;
    for (const name of this.names) {
      const next = new Float32Array(floats);
      const old = this.buffers.get(name);
      // the used prefix is [B, Hkv, P, dh] contiguous whatever the capacity: copy it as is
      if (old) next.set(old.subarray(0, this.batch * this.kvHeads * this.length * this.headDim));
      this.buffers.set(name, next);
    }
    this.capacity = positions;
  }
}
