#!/usr/bin/env node
// Per seed, each mitigation method's detailed-description CHAIR_i, coverage and adversarial POPE
// errors beside the `none` method's, from finished runs of a config with eval.mitigation (one
// folder per seed, as `mllm sweep` writes them): the ratios the mitigation targets are stated in.
//   node tools/mitigation-seeds.mjs RUN [RUN ...]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error('usage: node tools/mitigation-seeds.mjs <run folder> [more run folders]');
  process.exit(1);
}
const fmt = (x) => x.toFixed(3);
console.log('| seed | method | detail CHAIR_i (/ none) | coverage (/ none) | POPE adv. errors (/ none) | wrong size |');
console.log('|---:|---|---:|---:|---:|---:|');
for (const dir of dirs) {
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  const methods = report.eval?.mitigation;
  if (!methods?.none) throw new Error(`${dir}/report.json has no eval.mitigation.none to compare with`);
  const of = (m) => ({ chairI: m.detail.chair.chairI, coverage: m.detail.chair.coverage, popeErrors: 1 - m.pope.adversarial.accuracy, size: m.detail.chair.byAttribute.size });
  const none = of(methods.none);
  for (const [name, method] of Object.entries(methods)) {
    const m = of(method);
    console.log(`| ${report.seed} | ${name} | ${fmt(m.chairI)} (${fmt(m.chairI / none.chairI)}) | ${fmt(m.coverage)} (${fmt(m.coverage / none.coverage)}) | ${fmt(m.popeErrors)} (${fmt(m.popeErrors / none.popeErrors)}) | ${fmt(m.size)} |`);
  }
}
