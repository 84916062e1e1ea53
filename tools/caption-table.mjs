#!/usr/bin/env node
// The caption-data tables of docs/experiments/caption-data.md from a sweep folder: per config, the
// align stage's captions (pairs trained on; the CLIP filter's removed share, precision and recall
// against the known noise; the recaptions' CHAIR), CHAIR_i / CHAIR_s and coverage of the captions
// the model writes, greedy (report.json) and sampled (eval-t1.json, from
// `mllm eval --checkpoint RUN --temperature 1`, where present), and, for runs with an instruct
// stage, POPE adversarial accuracy and F1 and closed-set accuracy; as mean and spread (min-max)
// over the seeds that `mllm sweep` leaves in <out>/<config>-seed<N>/, then CHAIR_i per seed.
// node tools/caption-table.mjs /tmp/captions-sweep
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [dir] = process.argv.slice(2);
if (!dir) throw new Error('usage: node tools/caption-table.mjs <sweep folder>');
const byConfig = new Map();
for (const name of readdirSync(dir)) {
  const m = /^(.*)-seed\d+$/.exec(name);
  const file = join(dir, name, 'report.json');
  if (!m || !existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const sampledFile = join(dir, name, 'eval-t1.json');
  report.sampled = existsSync(sampledFile) ? JSON.parse(readFileSync(sampledFile, 'utf8')) : undefined;
  report.seed = Number(/-seed(\d+)$/.exec(name)[1]);
  if (!byConfig.has(m[1])) byConfig.set(m[1], []);
  byConfig.get(m[1]).push(report);
}
if (byConfig.size === 0) throw new Error(`no finished run under ${dir}`);

const fmt = (values, digits = 3) => {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return '-';
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return v.length === 1 ? mean.toFixed(digits) : `${mean.toFixed(digits)} (${Math.min(...v).toFixed(digits)}-${Math.max(...v).toFixed(digits)})`;
};
const captionsOf = (r) => r.stages.find((s) => s.captions)?.captions;
const instructed = [...byConfig.values()].flat().some((r) => r.stages.some((s) => s.type === 'instruct'));
const columns = [
  ['seeds', (rs) => String(rs.length)],
  ['pairs trained on', (rs) => fmt(rs.map((r) => captionsOf(r)?.trainedOn), 0)],
  ['noise', (rs) => fmt(rs.map((r) => captionsOf(r)?.noise?.noisy ?? 0))],
  ['filter removed', (rs) => fmt(rs.map((r) => captionsOf(r)?.filter?.removedShare))],
  ['filter precision', (rs) => fmt(rs.map((r) => captionsOf(r)?.filter?.precision))],
  ['filter recall', (rs) => fmt(rs.map((r) => captionsOf(r)?.filter?.recall))],
  ['recaption CHAIR_i', (rs) => fmt(rs.map((r) => captionsOf(r)?.recaption?.chairI))],
  ...(instructed
    ? [
        ['POPE adv. acc', (rs) => fmt(rs.map((r) => r.eval?.pope?.adversarial?.accuracy))],
        ['POPE adv. F1', (rs) => fmt(rs.map((r) => r.eval?.pope?.adversarial?.f1))],
      ]
    : []),
  ['CHAIR_i', (rs) => fmt(rs.map((r) => r.eval?.chair?.chairI))],
  ['CHAIR_s', (rs) => fmt(rs.map((r) => r.eval?.chair?.chairS))],
  ['coverage', (rs) => fmt(rs.map((r) => r.eval?.chair?.coverage))],
  ['sampled CHAIR_i', (rs) => fmt(rs.map((r) => r.sampled?.chair?.chairI))],
  ['sampled CHAIR_s', (rs) => fmt(rs.map((r) => r.sampled?.chair?.chairS))],
  ['sampled coverage', (rs) => fmt(rs.map((r) => r.sampled?.chair?.coverage))],
  ...(instructed ? [['closed-set acc', (rs) => fmt(rs.map((r) => r.eval?.closedSet?.accuracy))]] : []),
];
console.log('mean (min-max) over seeds\n');
console.log(`| config | ${columns.map(([c]) => c).join(' | ')} |`);
console.log(`|---|${columns.map(() => '---:').join('|')}|`);
for (const [config, reports] of byConfig) console.log(`| ${config} | ${columns.map(([, f]) => f(reports)).join(' | ')} |`);

const seeds = [...new Set([...byConfig.values()].flat().map((r) => r.seed))].sort((a, b) => a - b);
const perSeed = (reports, value) => seeds.map((seed) => reports.find((r) => r.seed === seed)).map((r) => (r && typeof value(r) === 'number' ? value(r).toFixed(3) : '-')).join(', ');
console.log(`\nper seed (${seeds.join(', ')})\n`);
console.log('| config | CHAIR_i | sampled CHAIR_i |');
console.log('|---|---|---|');
for (const [config, reports] of byConfig) console.log(`| ${config} | ${perSeed(reports, (r) => r.eval?.chair?.chairI)} | ${perSeed(reports, (r) => r.sampled?.chair?.chairI)} |`);
