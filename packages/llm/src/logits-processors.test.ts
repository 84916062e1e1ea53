import { describe, it, expect } from 'vitest';
import { Rng } from '@mllm/core';
import { applyRepetitionPenalty, argmax, sampleFromLogits, softmax, topKFilter, topPFilter } from './logits-processors';
import { resolveGenerateOptions } from './generation-options';
import { TokenPicker } from './token-picker';

const kept = (logits: Float64Array) => Array.from(logits.keys()).filter((i) => logits[i]! > -Infinity);
const logitsOf = (probs: number[]) => Float64Array.from(probs, Math.log);

/** Independent reference: most likely first, take tokens until their probability adds up to >= p. */
function nucleusByDescendingSum(probs: number[], p: number): number[] {
  const order = probs.map((q, i) => [q, i] as const).sort((a, b) => b[0] - a[0]);
  const out: number[] = [];
  let mass = 0;
  for (const [q, i] of order) {
    out.push(i);
    mass += q;
    if (mass >= p) break;
  }
  return out.sort((a, b) => a - b);
}

describe('logits processors (HF logits_process.py semantics)', () => {
  it('repetition penalty: negative logits x penalty, positive ones / penalty, each seen id once', () => {
    const logits = Float64Array.from([2, -1, 0.5, -3, 4]);
    applyRepetitionPenalty(logits, [0, 1, 1, 3, 3, 3], 2);
    expect(Array.from(logits)).toEqual([1, -2, 0.5, -6, 4]);
    const reward = Float64Array.from([2, -1]);
    applyRepetitionPenalty(reward, [0, 1], 0.5); // < 1 encourages repeats
    expect(Array.from(reward)).toEqual([4, -0.5]);
  });

  it('top-k keeps the k largest, and ties with the k-th', () => {
    const logits = () => Float64Array.from([1, 3, 3, 2, 0]);
    const a = logits();
    topKFilter(a, 1);
    expect(kept(a)).toEqual([1, 2]);
    const b = logits();
    topKFilter(b, 3);
    expect(kept(b)).toEqual([1, 2, 3]);
    const c = logits();
    topKFilter(c, 50);
    expect(kept(c)).toEqual([0, 1, 2, 3, 4]);
  });

  it('top-p keeps exactly the smallest set of most likely tokens reaching p, at least one', () => {
    const probs = [0.05, 0.4, 0.1, 0.3, 0.15];
    const cases: [number, number[]][] = [
      [0.01, [1]],
      [0.39, [1]],
      [0.41, [1, 3]],
      [0.65, [1, 3]],
      [0.75, [1, 3, 4]],
      [0.9, [1, 2, 3, 4]],
      [0.97, [0, 1, 2, 3, 4]],
      [1, [0, 1, 2, 3, 4]],
    ];
    for (const [p, want] of cases) {
      const logits = logitsOf(probs);
      topPFilter(logits, p);
      expect(kept(logits), `p=${p}`).toEqual(want);
      // the kept logits are untouched, so renormalising gives the kept probabilities
      for (const i of want) expect(logits[i]).toBeCloseTo(Math.log(probs[i]!), 12);
    }
  });

  it('top-p agrees with a most-likely-first reference on random distributions', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 200; trial++) {
      const raw = Array.from({ length: 2 + rng.int(12) }, () => Math.exp(3 * rng.normal()));
      const sum = raw.reduce((a, b) => a + b);
      const probs = raw.map((x) => x / sum);
      const p = 0.05 + 0.95 * rng.next();
      const logits = logitsOf(probs);
      topPFilter(logits, p);
      expect(kept(logits)).toEqual(nucleusByDescendingSum(probs, p));
    }
  });

  it('sampling draws each token with its softmax probability', () => {
    const logits = logitsOf([0.5, 0.3, 0.15, 0.05]);
    const rng = new Rng(3);
    const counts = [0, 0, 0, 0];
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampleFromLogits(logits, rng.next())]!++;
    softmax(logits).forEach((q, i) => expect(Math.abs(counts[i]! / n - q)).toBeLessThan(0.015));
    expect(argmax([1, 5, 5, 2])).toBe(1);
  });
});

describe('TokenPicker', () => {
  const picker = (options: Parameters<typeof resolveGenerateOptions>[0], ids?: number[][], mask?: number[][]) =>
    new TokenPicker(resolveGenerateOptions(options), 1, ids, mask);

  it('penalises the prompt (not its padding) and its own picks, as a hand computation says', () => {
    // prompt [pad=0, 2]; greedy with penalty 4: logits [3, 1, 3.5, -0.5] -> [3, 1, 0.875, -0.5] -> id 0
    const p = picker({ maxNewTokens: 1, repetitionPenalty: 4 }, [[0, 2]], [[0, 1]]);
    expect(p.pick([[3, 1, 3.5, -0.5]])).toEqual([0]);
    // now 0 and 2 are seen: [0.75, 1, 0.875, -0.5] -> id 1
    expect(p.pick([[3, 1, 3.5, -0.5]])).toEqual([1]);
    // without the penalty the same logits give id 2 both times
    const plain = picker({ maxNewTokens: 1 }, [[0, 2]], [[0, 1]]);
    expect([plain.pick([[3, 1, 3.5, -0.5]]), plain.pick([[3, 1, 3.5, -0.5]])]).toEqual([[2], [2]]);
  });

  it('applies temperature before top-p: a hotter distribution needs more tokens to reach p', () => {
    const logits = Array.from(logitsOf([0.5, 0.3, 0.15, 0.05]));
    const seen = (temperature: number) => {
      const p = picker({ maxNewTokens: 1, temperature, topP: 0.85, seed: 1 });
      return [...new Set(Array.from({ length: 3000 }, () => p.pick([logits])[0]!))].sort();
    };
    expect(seen(1)).toEqual([0, 1, 2]); // 0.5 + 0.3 < 0.85 <= 0.95
    expect(seen(4)).toEqual([0, 1, 2, 3]); // p^(1/4) normalised: 0.31, 0.28, 0.23, 0.18
  });

  it('applies top-k before top-p: the nucleus is taken of the renormalised top k', () => {
    // top-2 of [0.4, 0.35, 0.25] renormalised is [0.53, 0.47]: top-p 0.5 keeps only id 0
    const p = picker({ maxNewTokens: 1, temperature: 1, topK: 2, topP: 0.5, seed: 2 });
    const logits = Array.from(logitsOf([0.4, 0.35, 0.25]));
    expect(new Set(Array.from({ length: 500 }, () => p.pick([logits])[0]))).toEqual(new Set([0]));
  });
});
