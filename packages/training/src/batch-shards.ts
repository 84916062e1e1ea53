import * as tf from '@tensorflow/tfjs';
import type { ModelBatch } from '@mllm/model';

/** One participant's part of a step: a row slice of the batch and its loss denominator (trained tokens). */
export interface BatchShard {
  batch: ModelBatch;
  weight: number;
}

/**
 * Cuts a collated batch into `parts` shards for data-parallel workers. The whole-batch loss is a
 * per-token sum over rows divided by the trained-token count, so which rows go together does
 * not change it: rows are sorted by length and cut where the padded work (rows x longest row)
 * is most even, and each shard drops the padding columns none of its rows use (right padding
 * under a causal mask: real positions never see them, and their loss weight is 0). Each shard's
 * weight is its trained-token count, so sum(weight * shardMean) / sum(weight) is the batch's mean.
 */
export function shardBatch(batch: ModelBatch, parts: number): BatchShard[] {
  const lengths = batch.attentionMask.map((row) => row.reduce((a, m) => a + m, 0));
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  return balancedCuts(order.map((i) => lengths[i]!), parts).map(([from, to]) => takeRows(batch, order.slice(from, to)));
}

/**
 * Splits ascending lengths into `parts` contiguous non-empty groups (fewer only when there are
 * fewer rows) minimising the largest rows x longest-row cost: greedy packing under a cost cap,
 * the cap found by bisection.
 */
function balancedCuts(sorted: number[], parts: number): [number, number][] {
  const n = sorted.length;
  const groups = Math.min(parts, n);
  const pack = (cap: number): [number, number][] | undefined => {
    const cuts: [number, number][] = [];
    let from = 0;
    while (from < n) {
      // leave at least one row for each group still to come
      const limit = n - (groups - cuts.length - 1);
      let to = from + 1;
      while (to < limit && (to + 1 - from) * sorted[to]! <= cap) to++;
      cuts.push([from, to]);
      from = to;
      if (cuts.length === groups && from < n) return undefined;
    }
    return cuts.length === groups ? cuts : undefined;
  };
  let lo = 0;
  let hi = n * (sorted[n - 1] ?? 0);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (pack(mid)) hi = mid;
    else lo = mid + 1;
  }
  return pack(hi) ?? [[0, n]];
}

/** The given rows of a batch, trimmed to the longest of them, with their images. */
function takeRows(batch: ModelBatch, rows: number[]): BatchShard {
  const width = Math.max(...rows.map((r) => batch.attentionMask[r]!.reduce((a, m) => a + m, 0)));
  const newRow = new Map(rows.map((r, i) => [r, i]));
  const pick = (xs: number[][]) => rows.map((r) => xs[r]!.slice(0, width));
  const images = batch.slots.map((s, i) => [s, i] as const).filter(([s]) => newRow.has(s.row));
  const weights = pick(batch.weights);
  return {
    batch: {
      inputIds: pick(batch.inputIds),
      targets: pick(batch.targets),
      weights,
      attentionMask: pick(batch.attentionMask),
      slots: images.map(([s]) => ({ row: newRow.get(s.row)!, start: s.start })),
      images: images.map(([, i]) => batch.images[i]!),
    },
    weight: weights.flat().reduce((a, w) => a + w, 0),
  };
}

/** Rows x padded width summed over shards: the work the LLM does on a batch cut this way. */
export function paddedWork(shards: BatchShard[]): number {
  return shards.reduce((a, s) => a + s.batch.inputIds.length * (s.batch.inputIds[0]?.length ?? 0), 0);
}

/**
 * In one process, a batch whose rows differ much in length costs less as length-sorted
 * micro-batches, each trimmed to its longest row (the loss is a per-token sum, so the gradient is
 * the same up to fp32 summation order). Picks 1-4 micro-batches: more only when each one cuts
 * the padded work by over 15%, since every micro-batch pays the per-kernel overheads again.
 */
export function microBatches(split: (parts: number) => BatchShard[]): BatchShard[] | undefined {
  let best: BatchShard[] | undefined;
  let bestWork = Infinity;
  for (let parts = 1; parts <= 4; parts++) {
    const shards = split(parts);
    const work = paddedWork(shards);
    if (work > 0.85 * bestWork) break;
    best = shards;
    bestWork = work;
  }
  return best && best.length > 1 ? best : undefined;
}

/** Loss and gradients of the whole batch's per-token mean, summed over its shards in this thread. */
export function accumulateShards(shards: BatchShard[], lossOf: (batch: ModelBatch) => tf.Scalar, params: [string, tf.Variable][]): { loss: number; grads: Map<string, tf.Tensor> } {
  const total = Math.max(1, shards.reduce((a, s) => a + s.weight, 0));
  const vars = params.map(([, p]) => p);
  const sums = new Map<string, tf.Tensor>();
  let loss = 0;
  for (const shard of shards) {
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => lossOf(shard.batch).mul(shard.weight / total)) as tf.Scalar, vars);
    loss += value.dataSync()[0]!;
    value.dispose();
    for (const [name, p] of params) {
      const g = grads[p.name];
      if (!g) continue;
      const before = sums.get(name);
      sums.set(name, before ? tf.add(before, g) : g);
      if (before) {
        before.dispose();
        g.dispose();
      }
    }
  }
  return { loss, grads: sums };
}
