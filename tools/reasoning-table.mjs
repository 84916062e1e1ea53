#!/usr/bin/env node
// Direct vs chain accuracy per question type, chain - direct, and the inconsistent share, as
// mean and spread (min-max) over the runs of a sweep folder: what `mllm sweep` leaves in
// <out>/<config>-seed<N>/report.json (eval.reasoning).
// node tools/reasoning-table.mjs /tmp/cot-sweep [config name, default: every config]
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [dir, only] = process.argv.slice(2);
if (!dir) throw new Error('usage: node tools/reasoning-table.mjs <sweep folder> [config name]');
const runs = readdirSync(dir)
  .filter((name) => /-seed\d+$/.test(name) && (!only || name.startsWith(`${only}-seed`)))
  .map((name) => ({ name, file: join(dir, name, 'report.json') }))
  .filter((r) => existsSync(r.file))
  .map((r) => ({ ...r, reasoning: JSON.parse(readFileSync(r.file, 'utf8')).eval?.reasoning }))
  .filter((r) => r.reasoning);
if (runs.length === 0) throw new Error(`no finished run with eval.reasoning under ${dir}`);

const fmt = (values) => {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.length === 1 ? mean.toFixed(3) : `${mean.toFixed(3)} (${Math.min(...values).toFixed(3)}-${Math.max(...values).toFixed(3)})`;
};
const types = [...new Set(runs.flatMap((r) => Object.keys(r.reasoning.direct.byType)))];
const rows = [...types.map((type) => [type, (r) => r.reasoning.direct.byType[type]?.accuracy ?? NaN, (r) => r.reasoning.chain.byType[type]?.accuracy ?? NaN]), ['all', (r) => r.reasoning.direct.accuracy, (r) => r.reasoning.chain.accuracy]];
console.log(`${runs.length} run(s): ${runs.map((r) => r.name).join(', ')}; mean (min-max)\n`);
console.log('| type | direct | chain | chain - direct |');
console.log('|---|---:|---:|---:|');
for (const [type, direct, chain] of rows) console.log(`| ${type} | ${fmt(runs.map(direct))} | ${fmt(runs.map(chain))} | ${fmt(runs.map((r) => chain(r) - direct(r)))} |`);
console.log(`\ninconsistent chains ${fmt(runs.map((r) => r.reasoning.inconsistent))}, chains with a final answer ${fmt(runs.map((r) => r.reasoning.answered))}`);
