import * as tf from '@tensorflow/tfjs';

/** A stage's speed and memory over the steps this process ran (a resumed stage: the steps since the resume). */
export interface StageThroughput {
  /** Steps measured. */
  steps: number;
  /** Median seconds of a training step (loss, gradients, optimizer; validation excluded). */
  secondsPerStep: number;
  meanSecondsPerStep: number;
  /** LLM tokens (spliced image tokens included, padding excluded) per second of training steps. */
  tokensPerSecond: number;
  imagesPerSecond: number;
  /**
   * The process's resident-memory high-water mark at the stage's end (`process.resourceUsage().maxRSS`):
   * the whole process so far, so a later stage reports at least an earlier one's peak.
   */
  peakRssBytes: number;
  /** Most bytes tfjs held in tensors after a step of this stage (`tf.memory().numBytes`). */
  peakTensorBytes: number;
  /** The wasm backend's heap at the stage's end (it only grows); absent on other backends. */
  wasmHeapBytes?: number;
  /** A frozen encoder's feature cache: images encoded (misses) and served again (hits). */
  featureCache?: { hits: number; misses: number; images: number; bytes: number };
}

/** Collects a stage's step times, tokens and images, and samples memory after each step. */
export class StageMeter {
  private readonly seconds: number[] = [];
  private tokens = 0;
  private images = 0;
  private peakTensorBytes = tf.memory().numBytes;

  step(event: { seconds: number; tokens: number; images?: number }): void {
    this.seconds.push(event.seconds);
    this.tokens += event.tokens;
    this.images += event.images ?? 0;
    this.peakTensorBytes = Math.max(this.peakTensorBytes, tf.memory().numBytes);
  }

  result(featureCache?: StageThroughput['featureCache']): StageThroughput {
    const total = this.seconds.reduce((a, b) => a + b, 0);
    const sorted = [...this.seconds].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length === 0 ? 0 : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    const heap = wasmHeapBytes();
    return {
      steps: this.seconds.length,
      secondsPerStep: median,
      meanSecondsPerStep: this.seconds.length ? total / this.seconds.length : 0,
      tokensPerSecond: total > 0 ? this.tokens / total : 0,
      imagesPerSecond: total > 0 ? this.images / total : 0,
      peakRssBytes: process.resourceUsage().maxRSS * 1024, // reported in KiB
      peakTensorBytes: this.peakTensorBytes,
      ...(heap !== undefined && { wasmHeapBytes: heap }),
      ...(featureCache && { featureCache }),
    };
  }
}

/** The wasm backend's linear memory, which grows to the most it ever held (up to its 4 GiB). */
export function wasmHeapBytes(): number | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.length;
}
