import { fmt3 } from '@mllm/eval';
import type { MitigationResult } from './mitigation-eval';
import { spread, type Spread } from './sweep-spread';

/**
 * The numbers that compare mitigation methods, one row per method: hallucination in the detailed
 * descriptions (CHAIR, attribute CHAIR, FaithScore) beside how much they say (coverage, objects
 * named per description), since a method that lowers hallucination by saying less is no win;
 * POPE per sampling and closed-set accuracy for the short answers.
 */
export const MITIGATION_COLUMNS = [
  ['chairI', 'detail CHAIR_i'],
  ['chairS', 'CHAIR_s'],
  ['coverage', 'coverage'],
  ['objectsPerDescription', 'objects / description'],
  ['color', 'wrong colour'],
  ['size', 'wrong size'],
  ['position', 'wrong position'],
  ['faithScore', 'FaithScore'],
  ['captionChairI', 'caption CHAIR_i'],
  ['popeRandom', 'POPE rand.'],
  ['popePopular', 'POPE pop.'],
  ['popeAdversarial', 'POPE adv.'],
  ['closedSet', 'closed-set'],
  ['changed', 'answers changed'],
] as const;

export type MitigationMetric = (typeof MITIGATION_COLUMNS)[number][0];

/** A method's row: its scores, `changed` being the share of answers post-correction rewrote (0 without it). */
export function mitigationSummary(r: MitigationResult): Record<MitigationMetric, number> {
  const detail = r.detail!.chair;
  return {
    chairI: detail.chairI,
    chairS: detail.chairS,
    coverage: detail.coverage,
    objectsPerDescription: detail.captions > 0 ? detail.mentions / detail.captions : 0,
    color: detail.byAttribute?.color ?? Number.NaN,
    size: detail.byAttribute?.size ?? Number.NaN,
    position: detail.byAttribute?.position ?? Number.NaN,
    faithScore: r.openSet!.faithScore.score,
    captionChairI: r.chair.chairI,
    popeRandom: r.pope.random.accuracy,
    popePopular: r.pope.popular.accuracy,
    popeAdversarial: r.pope.adversarial.accuracy,
    closedSet: r.closedSet.accuracy,
    changed: r.correction && r.correction.answers > 0 ? r.correction.changed / r.correction.answers : 0,
  };
}

/** What a method is, in words: the policy, then its decoding and post-correction. */
export function describeMethod(r: Pick<MitigationResult, 'model' | 'decoding' | 'correct'>): string {
  const parts = [r.model === 'instruct' ? 'instruct model' : 'final model'];
  if (r.decoding?.contrastive && r.decoding.contrastive.alpha > 0) parts.push(`VCD alpha ${r.decoding.contrastive.alpha}`);
  if (r.decoding?.imageAttention && r.decoding.imageAttention.alpha > 0) parts.push(`PAI alpha ${r.decoding.imageAttention.alpha}`);
  if (r.correct) parts.push(`${r.correct} post-correction`);
  return parts.join(' + ');
}

export interface MitigationRow {
  name: string;
  method: string;
  metrics: Record<MitigationMetric, Spread>;
}

/** Rows of `eval.mitigation` over one or more runs of a config (one per seed): methods every run has, mean and spread. */
export function mitigationRows(runs: readonly (Record<string, MitigationResult> | undefined)[]): MitigationRow[] {
  const first = runs[0];
  if (!first || runs.some((r) => !r)) return [];
  return Object.entries(first).flatMap(([name, result]) => {
    if (!runs.every((r) => r![name])) return [];
    const summaries = runs.map((r) => mitigationSummary(r![name]!));
    const metrics = Object.fromEntries(MITIGATION_COLUMNS.map(([key]) => [key, spread(summaries.map((s) => s[key]))])) as Record<MitigationMetric, Spread>;
    return [{ name, method: describeMethod(result), metrics }];
  });
}

/** The mitigation table (report.md with one run, sweep.md with mean ± sd over seeds); '' without rows. */
export function mitigationMarkdown(rows: readonly MitigationRow[], seeds: number, title = '## Hallucination mitigation'): string {
  if (rows.length === 0) return '';
  const show = (x: Spread) => (seeds > 1 ? `${fmt3(x.mean)} ± ${fmt3(x.std)}` : fmt3(x.mean));
  return [
    title,
    '',
    'Each method is the whole evaluation again: detailed descriptions (CHAIR, wrong attributes among those stated, FaithScore) beside their coverage, then captions, POPE and closed-set answers.',
    '',
    `| method | what | ${MITIGATION_COLUMNS.map(([, header]) => header).join(' | ')} |`,
    `| --- | --- | ${MITIGATION_COLUMNS.map(() => '---:').join(' | ')} |`,
    ...rows.map((r) => `| ${r.name} | ${r.method} | ${MITIGATION_COLUMNS.map(([key]) => show(r.metrics[key])).join(' | ')} |`),
    '',
  ].join('\n');
}
