#!/usr/bin/env node
// Few-shot accuracy per task and shot count, the gain from 0 to the most shots, and what copying
// a random shown demonstration would score, as mean and spread (min-max) over the runs of each
// config in a sweep folder: what `mllm sweep` leaves in <out>/<config>-seed<N>/report.json
// (eval.icl).
// node tools/icl-table.mjs /tmp/icl-sweep
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir] = process.argv.slice(2);
if (!dir) throw new Error('usage: node tools/icl-table.mjs <sweep folder>');
const runs = readdirSync(dir)
  .filter((name) => /-seed\d+$/.test(name))
  .map((name) => ({ name, config: name.replace(/-seed\d+$/, ''), file: join(dir, name, 'report.json') }))
  .filter((r) => existsSync(r.file))
  .map((r) => ({ ...r, icl: JSON.parse(readFileSync(r.file, 'utf8')).eval?.icl }))
  .filter((r) => r.icl);
if (runs.length === 0) throw new Error(`no finished run with eval.icl under ${dir}`);

const fmt = (values) => {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return '';
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  return finite.length === 1 ? mean.toFixed(3) : `${mean.toFixed(3)} (${Math.min(...finite).toFixed(3)}-${Math.max(...finite).toFixed(3)})`;
};
const configs = [...new Set(runs.map((r) => r.config))];
const tasks = [...new Set(runs.flatMap((r) => Object.keys(r.icl.tasks)))];
const shots = [...new Set(runs.flatMap((r) => Object.values(r.icl.tasks).flatMap((t) => Object.keys(t.shots))))].sort((a, b) => a - b);
const [first, last] = [shots[0], shots.at(-1)];
console.log(`${runs.length} run(s): ${runs.map((r) => r.name).join(', ')}; mean (min-max)\n`);
console.log(`| config | task | ${shots.map((k) => `${k}-shot`).join(' | ')} | ${last}-shot - ${first}-shot |`);
console.log(`|---|---|${shots.map(() => '---:').join('|')}|---:|`);
for (const config of configs) {
  const own = runs.filter((r) => r.config === config);
  for (const task of tasks) {
    const at = (r, k) => r.icl.tasks[task]?.shots[k] ?? NaN;
    console.log(`| ${config} | ${task} | ${shots.map((k) => fmt(own.map((r) => at(r, k)))).join(' | ')} | ${fmt(own.map((r) => at(r, last) - at(r, first)))} |`);
  }
}
// the copy baseline depends only on the episodes, which a seed draws the same for every config
console.log(`\nCopying the label of a random shown demonstration, same prompts (mean over the runs):\n`);
console.log(`| task | ${shots.map((k) => `${k}-shot`).join(' | ')} |`);
console.log(`|---|${shots.map(() => '---:').join('|')}|`);
for (const task of tasks) console.log(`| ${task} | ${shots.map((k) => fmt(runs.map((r) => r.icl.tasks[task]?.copy?.[k] ?? NaN))).join(' | ')} |`);
