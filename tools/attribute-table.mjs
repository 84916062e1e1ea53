#!/usr/bin/env node
// Side-by-side tables of a sweep's runs beyond what sweep.md holds: closed-set accuracy per
// question type, POPE per sampling, and what the detailed descriptions get right per object
// attribute (eval.detail.attributes), plus, for runs with the expert bridge, what the expert's
// own text gets right (eval.expert). Mean ± sample standard deviation over the seeds found.
//   node tools/attribute-table.mjs /tmp/bridge-sweep expert-bridge default
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, ...names] = process.argv.slice(2);
if (!dir || names.length === 0) {
  console.error('usage: node tools/attribute-table.mjs <sweep folder> <run name> [run name ...]');
  process.exit(1);
}

function reportsOf(name) {
  const out = [];
  for (let seed = 0; existsSync(join(dir, `${name}-seed${seed}`, 'report.json')); seed++) out.push(JSON.parse(readFileSync(join(dir, `${name}-seed${seed}`, 'report.json'), 'utf8')));
  if (out.length === 0) throw new Error(`no ${name}-seed0/report.json in ${dir}`);
  return out;
}

function spread(values) {
  const xs = values.filter((v) => typeof v === 'number');
  if (xs.length === 0) return 'n/a';
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return xs.length > 1 ? `${mean.toFixed(3)} ± ${std.toFixed(3)}` : mean.toFixed(3);
}

const runs = names.map((name) => ({ name, reports: reportsOf(name) }));
const rows = (header, metrics) => {
  const lines = [`| ${['run', ...header].join(' | ')} |`, `| ${['---', ...header.map(() => '---:')].join(' | ')} |`];
  for (const { name, reports } of runs) lines.push(`| ${[`${name} (${reports.length} seeds)`, ...metrics.map((m) => spread(reports.map((r) => m(r.eval))))].join(' | ')} |`);
  return lines.join('\n');
};

const TYPES = ['existence', 'color', 'count', 'spatial'];
const ATTRIBUTES = ['shape', 'color', 'size', 'position', 'count'];
console.log('### POPE accuracy and closed-set accuracy by question type\n');
console.log(
  rows(
    ['POPE random', 'POPE popular', 'POPE adversarial', 'closed-set', ...TYPES],
    [(e) => e.pope.random.accuracy, (e) => e.pope.popular.accuracy, (e) => e.pope.adversarial.accuracy, (e) => e.closedSet.accuracy, ...TYPES.map((t) => (e) => e.closedSet.byType[t]?.accuracy)],
  ),
);
console.log('\n### Detailed descriptions: accuracy per object attribute, and hallucination per kind\n');
console.log(
  rows(
    [...ATTRIBUTES, 'CHAIR_i', 'attribute rate', 'relationship rate'],
    [...ATTRIBUTES.map((a) => (e) => e.detail?.attributes?.accuracy[a]), (e) => e.detail?.chair.chairI, (e) => e.detail?.kinds?.rates.attribute, (e) => e.detail?.kinds?.rates.relationship],
  ),
);
const experts = runs.filter((r) => r.reports[0].eval.expert);
if (experts.length) {
  console.log("\n### The expert's own text: accuracy per object attribute (what reaches the LLM)\n");
  const lines = [`| ${['run', ...ATTRIBUTES].join(' | ')} |`, `| ${['---', ...ATTRIBUTES.map(() => '---:')].join(' | ')} |`];
  for (const { name, reports } of experts) lines.push(`| ${[`${name} (${reports.length} seeds)`, ...ATTRIBUTES.map((a) => spread(reports.map((r) => r.eval.expert.attributes.accuracy[a])))].join(' | ')} |`);
  console.log(lines.join('\n'));
}
