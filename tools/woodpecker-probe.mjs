#!/usr/bin/env node
// How good Woodpecker's expert is in a finished run, and what its threshold changes: the run's
// region detector on every test cell (shape and size read right; the probability of its shape
// call when right and when wrong), then the run's detailed descriptions corrected against it at
// each threshold, with the hallucinated objects (CHAIR) the corrections removed and added.
//   node tools/woodpecker-probe.mjs RUN [thresholds=0,0.9]
import { DETAIL_PROMPT } from '@mllm/data';
import { rewriteAnswer } from '@mllm/correct';
import { chair } from '@mllm/eval';
import { openPostCorrector, openRun } from '@mllm/run';

const [dir, thresholdsArg = '0,0.9'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node tools/woodpecker-probe.mjs <run folder> [thresholds]');
  process.exit(1);
}
const run = await openRun(dir);
const corrector = await openPostCorrector(run);
const scenes = run.world.scenes('test').slice(0, run.config.eval.scenes ?? Infinity);
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
console.log(`${dir}: ${scenes.length} test scenes, ${cells} objects`);
console.log(`detector: shape right ${calls.right.length}, wrong ${calls.wrong.length}; size right ${sizeRight}/${cells}`);
// hallucinated objects per description, before correction, counted once
const hallucinatedIn = (text, i) => chair([{ scene: scenes[i], caption: text }]).hallucinated;
const beforeEach = texts.map(hallucinatedIn);
const before = beforeEach.reduce((a, b) => a + b, 0);
console.log('| threshold | wrong shape calls below it | right ones below it | hallucinated objects: before | after | removed | added |');
console.log('|---:|---:|---:|---:|---:|---:|---:|');
for (const t of thresholdsArg.split(',').map(Number)) {
  let removed = 0;
  let added = 0;
  let after = 0;
  texts.forEach((text, i) => {
    const count = hallucinatedIn(rewriteAnswer(text, seen[i], { minConfidence: t }).corrected, i);
    const delta = count - beforeEach[i];
    if (delta > 0) added += delta;
    else removed -= delta;
    after += count;
  });
  const below = (xs) => xs.filter((x) => x < t).length;
  console.log(`| ${t} | ${below(calls.wrong)} | ${below(calls.right)} | ${before} | ${after} | ${removed} | ${added} |`);
}
corrector.dispose();
run.dispose();
