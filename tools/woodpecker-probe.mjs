#!/usr/bin/env node
// How good Woodpecker's expert is in a finished run, and what its rules change: the run's region
// detector on every scene's cells (shape and size read right; the probability of its shape call
// when right and when wrong), then the run's detailed descriptions corrected against it under
// each rule, with the hallucinated objects (CHAIR) the corrections removed and added and the
// objects the corrected descriptions still name.
//   node tools/woodpecker-probe.mjs RUN [rules=0,0.9] [test|val]
// A rule is `minConfidence` or `minConfidence/refuteBelow` (RewriteOptions of @mllm/correct);
// pick thresholds on `val` scenes, report them on `test`.
import { DETAIL_PROMPT } from '@mllm/data';
import { rewriteAnswer } from '@mllm/correct';
import { chair } from '@mllm/eval';
import { openPostCorrector, openRun } from '@mllm/run';

const [dir, rulesArg = '0,0.9', split = 'test'] = process.argv.slice(2);
if (!dir || !['test', 'val'].includes(split)) {
  console.error('usage: node tools/woodpecker-probe.mjs <run folder> [rules, e.g. 0,0.9,0/0.1] [test|val]');
  process.exit(1);
}
const rules = rulesArg.split(',').map((rule) => {
  const [minConfidence, refuteBelow] = rule.split('/').map(Number);
  return { rule, options: { minConfidence, ...(refuteBelow !== undefined && { refuteBelow }) } };
});
const run = await openRun(dir);
const corrector = await openPostCorrector(run);
const scenes = run.world.scenes(split).slice(0, run.config.eval.scenes ?? Infinity);
const seen = scenes.map((s) => corrector.seen(run.world.image(s.id)));
const calls = { right: [], wrong: [] };
let sizeRight = 0;
let cells = 0;
scenes.forEach((scene, i) =>
  scene.objects.forEach((o) => {
    const d = seen[i].find((x) => x.cell === o.cell);
    cells++;
    if (d?.size === o.size) sizeRight++;
    if (d) (d.shape === o.shape ? calls.right : calls.wrong).push(d.confidence);
  }),
);
const texts = [];
for (const scene of scenes) texts.push(await run.answer(run.world.image(scene.id), DETAIL_PROMPT));
console.log(`${dir}: ${scenes.length} ${split} scenes, ${cells} objects`);
console.log(`detector: shape right ${calls.right.length}, wrong ${calls.wrong.length}; size right ${sizeRight}/${cells}`);
// hallucinated mentions per description (CHAIR's count), and all the mentions it makes
const score = (text, i) => chair([{ scene: scenes[i], caption: text }]);
const beforeEach = texts.map((text, i) => score(text, i).hallucinated);
const before = beforeEach.reduce((a, b) => a + b, 0);
console.log('| rule (minConfidence/refuteBelow) | wrong shape calls below minConfidence | right ones below it | hallucinated objects: before | after | removed | added | objects named after |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const { rule, options } of rules) {
  let removed = 0;
  let added = 0;
  let after = 0;
  let named = 0;
  texts.forEach((text, i) => {
    const scored = score(rewriteAnswer(text, seen[i], options).corrected, i);
    const delta = scored.hallucinated - beforeEach[i];
    if (delta > 0) added += delta;
    else removed -= delta;
    after += scored.hallucinated;
    named += scored.mentions;
  });
  const below = (xs) => xs.filter((x) => x < options.minConfidence).length;
  console.log(`| ${rule} | ${below(calls.wrong)} | ${below(calls.right)} | ${before} | ${after} | ${removed} | ${added} | ${named} |`);
}
corrector.dispose();
run.dispose();
