import * as tf from '@tensorflow/tfjs';
import { Module } from '../module';
import { ModuleList } from '../module-list';
import { Linear } from './linear';
import type { Rng } from '../rng';

/*
 * Sparse Mixture-of-Experts feed-forward. Shapes: B batch, T tokens, N = B*T token rows,
 * D width, H expert hidden width, E experts, k experts per token, S routed (token, expert) slots.
 */

export interface MoeOptions {
  experts: number;
  /** Experts each token is sent to. */
  topK: number;
  /**
   * Slots per expert = ceil(capacityFactor * tokens * topK / experts), applied while training
   * only (as Switch does): a token past an expert's capacity skips that expert. Absent: no limit.
   */
  capacityFactor?: number;
}

/** What one MoE layer's router did in one forward. */
export type MoeRouting = {
  /** Router logits [N, E] (for the z-loss). */
  logits: tf.Tensor2D;
  /** Router probabilities, softmax over all experts in fp32, [N, E]. */
  probs: tf.Tensor2D;
  /** Each token's weight per expert [N, E]: the chosen k renormalised to sum to 1, 0 elsewhere. */
  weights: tf.Tensor2D;
  /** 1 where the router picked the expert for the token (before capacity), [N, E]; a constant. */
  selected: tf.Tensor2D;
  /** 1 for real tokens, 0 for padding (not routed), [N, 1]; a constant. */
  valid: tf.Tensor2D;
  /** Real tokens routed. */
  tokens: number;
  /** Slots the router chose per expert (before capacity), [E]. */
  chosen: number[];
  /** (token, expert) slots dropped by the capacity limit. */
  dropped: number;
  /** Expert input rows actually computed (S, after capacity): the MoE's compute. */
  expertRows: number;
  /** Whether the router is being trained (its `gate` is trainable): only then do the aux losses count. */
  routerTrainable: boolean;
};

/** Rows of x [M, C] at `index` -> [S, C]; the gradient scatter-adds back (a row may be taken several times). */
export function gatherRows(x: tf.Tensor2D, index: Int32Array): tf.Tensor2D {
  const rows = x.shape[0];
  const f = tf.customGrad(((xs: tf.Tensor) => ({
    value: tf.gather(xs, tf.tensor1d(index, 'int32')),
    // wasm has no gather gradient kernel (UnsortedSegmentSum); ScatterNd sums repeated rows
    gradFunc: (dy: tf.Tensor) => tf.scatterND(tf.tensor2d(index, [index.length, 1], 'int32'), dy, [rows, dy.shape[1]!]),
  })) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor2D;
  return f(x);
}

/** y [S, C] summed into rows `index` of an [M, C] zero tensor; the gradient gathers those rows. */
export function scatterAddRows(y: tf.Tensor2D, index: Int32Array, rows: number): tf.Tensor2D {
  const f = tf.customGrad(((ys: tf.Tensor) => ({
    value: tf.scatterND(tf.tensor2d(index, [index.length, 1], 'int32'), ys, [rows, ys.shape[1]!]),
    gradFunc: (dy: tf.Tensor) => tf.gather(dy, tf.tensor1d(index, 'int32')),
  })) as unknown as Parameters<typeof tf.customGrad>[0]) as (y: tf.Tensor) => tf.Tensor2D;
  return f(y);
}

/** One Mixtral expert, a SwiGLU with HF's names: w2(silu(w1 x) * w3 x), no biases. */
export class MixtralExpert extends Module {
  readonly w1: Linear;
  readonly w2: Linear;
  readonly w3: Linear;

  constructor(dim: number, hidden: number, rng: Rng) {
    super();
    this.w1 = this.add('w1', new Linear(dim, hidden, rng, { bias: false })); // gate
    this.w2 = this.add('w2', new Linear(hidden, dim, rng, { bias: false })); // down
    this.w3 = this.add('w3', new Linear(dim, hidden, rng, { bias: false })); // up
  }

  /** [S, D] -> [S, D] */
  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const g = this.w1.forward(x); // [S, H]
      return this.w2.forward(g.mul(tf.sigmoid(g)).mul(this.w3.forward(x)) as tf.Tensor2D);
    });
  }
}

/**
 * Top-k routing of one token: the k largest probabilities, ties to the lower expert index.
 * Returns expert ids, most probable first.
 */
function topK(probs: Float32Array | Float64Array, offset: number, experts: number, k: number): number[] {
  const picked: number[] = [];
  for (let j = 0; j < k; j++) {
    let best = -1;
    for (let e = 0; e < experts; e++) {
      if (picked.includes(e)) continue;
      if (best < 0 || probs[offset + e]! > probs[offset + best]!) best = e;
    }
    picked.push(best);
  }
  return picked;
}

/** Routing decided on the host: which rows each expert computes. */
interface Dispatch {
  /** Per expert, its token rows in slot order. */
  rows: number[][];
  chosen: number[];
  dropped: number;
  selected: Float32Array;
}

/**
 * Top-k per real token, then the capacity limit: first choices of every token claim their
 * expert's slots before any second choice does (GShard's priority), tokens in order.
 */
export function dispatchTokens(probs: Float32Array, valid: ArrayLike<number>, options: MoeOptions & { capacity?: number }): Dispatch {
  const { experts, topK: k } = options;
  const n = valid.length;
  const choices: number[][] = [];
  const selected = new Float32Array(n * experts);
  const chosen = new Array<number>(experts).fill(0);
  for (let t = 0; t < n; t++) {
    const picks = valid[t] ? topK(probs, t * experts, experts, k) : [];
    choices.push(picks);
    for (const e of picks) {
      selected[t * experts + e] = 1;
      chosen[e]!++;
    }
  }
  const capacity = options.capacity ?? Infinity;
  const rows: number[][] = Array.from({ length: experts }, () => []);
  let dropped = 0;
  for (let j = 0; j < k; j++)
    for (let t = 0; t < n; t++) {
      const e = choices[t]![j];
      if (e === undefined) continue;
      if (rows[e]!.length < capacity) rows[e]!.push(t);
      else dropped++;
    }
  return { rows, chosen, dropped, selected };
}

/**
 * Sparse MoE feed-forward, HF MixtralSparseMoeBlock: router `gate` (D -> E, no bias), softmax
 * over all experts in fp32, top-k, the k weights renormalised to sum to 1, each token's rows
 * computed by its k experts only (gather, expert, scatter-add). Fedus et al. arXiv:2101.03961,
 * Jiang et al. arXiv:2401.04088.
 */
export class SparseMoeBlock extends Module {
  readonly gate: Linear;
  readonly experts: ModuleList<MixtralExpert>;

  constructor(
    readonly dim: number,
    readonly hidden: number,
    readonly options: MoeOptions,
    rng: Rng,
  ) {
    super();
    if (!(options.topK >= 1 && options.topK <= options.experts))
      throw new Error(`SparseMoeBlock: topK must be between 1 and experts (${options.experts}), got ${options.topK}`);
    this.gate = this.add('gate', new Linear(dim, options.experts, rng, { bias: false }));
    this.experts = this.add('experts', new ModuleList(Array.from({ length: options.experts }, () => new MixtralExpert(dim, hidden, rng))));
  }

  /** [B, T, D] -> [B, T, D]: the FeedForward contract (routing statistics dropped). */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => this.forwardRouted(x).out);
  }

  /**
   * x [B, T, D], tokenMask [B][T] (0 = padding: not routed, output 0, not counted)
   * -> out [B, T, D] and what the router did.
   */
  forwardRouted(x: tf.Tensor3D, tokenMask?: number[][]): { out: tf.Tensor3D; routing: MoeRouting } {
    const [b, t, d] = x.shape;
    const n = b * t;
    const e = this.options.experts;
    const valid = tokenMask ? tokenMask.flat() : new Array<number>(n).fill(1);
    if (valid.length !== n) throw new Error(`SparseMoeBlock: tokenMask has ${valid.length} entries for ${b}x${t} tokens`);
    return tf.tidy(() => {
      const x2 = x.reshape([n, d]) as tf.Tensor2D; // [N, D]
      const logits = this.gate.forward(x2); // [N, E]
      const probs = tf.softmax(logits.toFloat()) as tf.Tensor2D; // [N, E]
      const tokens = valid.reduce((a, v) => a + (v ? 1 : 0), 0);
      const capacity = this.training && this.options.capacityFactor !== undefined ? Math.ceil((this.options.capacityFactor * tokens * this.options.topK) / e) : undefined;
      const dispatch = dispatchTokens(probs.dataSync() as Float32Array, valid, { ...this.options, capacity });
      const selected = tf.tensor2d(dispatch.selected, [n, e]);
      const validCol = tf.tensor2d(Float32Array.from(valid, (v) => (v ? 1 : 0)), [n, 1]);
      // the chosen k weights renormalised; padding rows have none, so their denominator is 1
      const picked = probs.mul(selected);
      const weights = picked.div(picked.sum(1, true).add(validCol.neg().add(1))) as tf.Tensor2D; // [N, E]

      const active = dispatch.rows.map((rows, k) => ({ k, rows })).filter((r) => r.rows.length > 0);
      const slotToken = Int32Array.from(active.flatMap((r) => r.rows)); // [S]
      let out: tf.Tensor2D;
      if (slotToken.length === 0) out = tf.zeros([n, d]);
      else {
        const slotWeight = Int32Array.from(active.flatMap((r) => r.rows.map((row) => row * e + r.k))); // [S] into weights [N*E]
        const xs = gatherRows(x2, slotToken); // [S, D]
        const parts = active.length === 1 ? [xs] : tf.split(xs, active.map((r) => r.rows.length), 0);
        const ys = tf.concat(parts.map((p, i) => this.experts.items[active[i]!.k]!.forward(p as tf.Tensor2D)), 0) as tf.Tensor2D; // [S, D]
        const w = gatherRows(weights.reshape([n * e, 1]) as tf.Tensor2D, slotWeight); // [S, 1]
        out = scatterAddRows(ys.mul(w) as tf.Tensor2D, slotToken, n); // [N, D]
      }
      return {
        out: out.reshape([b, t, d]) as tf.Tensor3D,
        routing: { logits, probs, weights, selected, valid: validCol, tokens, chosen: dispatch.chosen, dropped: dispatch.dropped, expertRows: slotToken.length, routerTrainable: this.gate.weight.trainable },
      };
    });
  }
}

export interface MoeLossOptions {
  /** Weight of the load-balancing loss (HF `router_aux_loss_coef`). */
  auxLossCoef: number;
  /** Weight of the router z-loss (ST-MoE); 0 or absent: not computed. */
  routerZLossCoef?: number;
}

/** A whole forward's MoE auxiliaries, over every MoE layer. */
export type MoeAux = {
  /**
   * auxLossCoef * balance + routerZLossCoef * z over the layers whose router is trainable: what
   * training adds to its loss. 0 when every router is frozen: the losses regularise the router,
   * and with it frozen their only gradient would train the modules below (a connector) to balance
   * a fixed router instead of serving the LM loss.
   */
  loss: tf.Scalar;
  balance: tf.Scalar;
  zLoss?: tf.Scalar;
  /** Per layer, the fraction of routed (token, expert) slots each expert got (sums to 1). */
  expertUtilisation: number[][];
  /** Slots dropped by the capacity limit, all layers. */
  dropped: number;
  /** Expert rows computed, all layers. */
  expertRows: number;
};

/**
 * HF `load_balancing_loss_func` (Switch eqs. 4-6, top-k as Mixtral) over all layers' tokens at
 * once: E * sum_e f_e P_e, f_e the fraction of real tokens whose top-k holds e (summed over the k
 * slots, so a balanced router scores k), P_e the mean router probability of e. Padding is left out.
 */
export function loadBalancingLoss(routings: readonly MoeRouting[]): tf.Scalar {
  return tf.tidy(() => {
    const experts = routings[0]!.probs.shape[1];
    const tokens = routings.reduce((a, r) => a + r.tokens, 0);
    if (tokens === 0) return tf.scalar(0);
    const valid = tf.concat(routings.map((r) => r.valid)); // [L*N, 1]
    const f = tf.concat(routings.map((r) => r.selected)).mul(valid).sum(0).div(tokens); // [E]
    const p = tf.concat(routings.map((r) => r.probs)).mul(valid).sum(0).div(tokens); // [E]
    return f.mul(p).sum().mul(experts) as tf.Scalar;
  });
}

/** ST-MoE router z-loss (Zoph et al. arXiv:2202.08906): mean over real tokens of logsumexp(logits)^2. */
export function routerZLoss(routings: readonly MoeRouting[]): tf.Scalar {
  return tf.tidy(() => {
    const tokens = routings.reduce((a, r) => a + r.tokens, 0);
    if (tokens === 0) return tf.scalar(0);
    const logits = tf.concat(routings.map((r) => r.logits)); // [L*N, E]
    const valid = tf.concat(routings.map((r) => r.valid)).reshape([-1]);
    return tf.logSumExp(logits, 1).square().mul(valid).sum().div(tokens) as tf.Scalar;
  });
}

/** The auxiliaries of one forward from its MoE layers' routings (none: undefined). */
export function moeAux(routings: readonly MoeRouting[], options: MoeLossOptions): MoeAux | undefined {
  if (routings.length === 0) return undefined;
  return tf.tidy(() => {
    const balance = loadBalancingLoss(routings);
    const zCoef = options.routerZLossCoef ?? 0;
    const zLoss = zCoef > 0 ? routerZLoss(routings) : undefined;
    const trained = routings.filter((r) => r.routerTrainable);
    const all = trained.length === routings.length;
    let loss: tf.Scalar = tf.scalar(0);
    if (trained.length > 0) {
      loss = (all ? balance : loadBalancingLoss(trained)).mul(options.auxLossCoef);
      if (zLoss) loss = loss.add((all ? zLoss : routerZLoss(trained)).mul(zCoef));
    }
    return {
      loss,
      balance,
      ...(zLoss && { zLoss }),
      expertUtilisation: routings.map((r) => {
        const total = r.chosen.reduce((a, c) => a + c, 0);
        return r.chosen.map((c) => (total ? c / total : 0));
      }),
      dropped: routings.reduce((a, r) => a + r.dropped, 0),
      expertRows: routings.reduce((a, r) => a + r.expertRows, 0),
    };
  });
}

/** Training stats of a forward's MoE auxiliaries: `moe/expert_k` (utilisation, mean over layers), dropped slots, losses. */
export function moeStats(aux: MoeAux): Record<string, number> {
  const layers = aux.expertUtilisation.length;
  const experts = aux.expertUtilisation[0]?.length ?? 0;
  const stats: Record<string, number> = {};
  for (let k = 0; k < experts; k++) stats[`moe/expert_${k}`] = aux.expertUtilisation.reduce((a, u) => a + u[k]!, 0) / layers;
  stats['moe/dropped'] = aux.dropped;
  stats['moe/balance_loss'] = aux.balance.dataSync()[0]!;
  if (aux.zLoss) stats['moe/z_loss'] = aux.zLoss.dataSync()[0]!;
  return stats;
}
