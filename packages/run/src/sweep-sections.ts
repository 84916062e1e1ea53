import { fmt3 } from '@mllm/eval';
import { spread, type Spread } from './sweep-spread';

/**
 * The report sections beyond POPE, CHAIR and closed-set that a sweep puts side by side when its
 * runs have them: in-context learning curves, reasoning with and without a chain, tool use,
 * held-out generalisation, open-set hallucination scores. Each is flattened to its numeric
 * leaves (`icl.tasks.colorWord.shots.4`), so a section can grow fields without the sweep
 * knowing them; sample lists (arrays) are left out.
 */
export const SWEEP_SECTIONS = ['icl', 'reasoning', 'tools', 'heldOut', 'openSet', 'judge'] as const;

/** Numeric leaves of `value` under `prefix`, in key order; arrays and non-numbers are skipped. */
export function numericLeaves(value: unknown, prefix: string): [string, number][] {
  if (typeof value === 'number') return Number.isFinite(value) ? [[prefix, value]] : [];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) => numericLeaves(v, `${prefix}.${key}`));
}

/**
 * Mean and spread over runs of every metric the named sections hold in ALL runs of a config
 * (a metric missing from one seed's report would make a mean of fewer seeds than the table says).
 */
export function sectionMetrics(evals: readonly Record<string, unknown>[]): Record<string, Spread> {
  const perRun = evals.map((e) => new Map(SWEEP_SECTIONS.flatMap((s) => numericLeaves(e[s], s))));
  const names = [...(perRun[0]?.keys() ?? [])].filter((name) => perRun.every((m) => m.has(name)));
  return Object.fromEntries(names.map((name) => [name, spread(perRun.map((m) => m.get(name)!))]));
}

/**
 * sweep.md's second table: one line per (config, metric), since each section has its own
 * metrics and a wide table of every config's columns would be mostly empty. '' when no run
 * has any of the sections.
 */
export function sectionsMarkdown(rows: readonly { name: string; sections: Record<string, Spread> }[], seeds: number): string {
  const lines = rows.flatMap((r) => Object.entries(r.sections).map(([metric, x]) => `| ${r.name} | ${metric} | ${seeds > 1 ? `${fmt3(x.mean)} ± ${fmt3(x.std)}` : fmt3(x.mean)} |`));
  if (lines.length === 0) return '';
  return ['## Other report sections', '', '| config | metric | value |', '| --- | --- | ---: |', ...lines, ''].join('\n');
}
