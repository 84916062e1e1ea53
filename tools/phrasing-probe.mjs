#!/usr/bin/env node
// Accuracy of a run per phrasing of each held-in closed task, on the first N test scenes: which
// phrasings (held out or trained) the model follows, and what it answers when it does not.
//   node tools/phrasing-probe.mjs RUN [scenes=30] [task,task]
import { Rng } from '@mllm/core';
import { PHRASINGS, PromptPlan } from '@mllm/data';
import { fillTemplate, taskQueries } from '@mllm/data/internal';
import { isCorrect } from '@mllm/eval';
import { openRun } from '@mllm/run';

const [dir, scenesArg = '30', tasksArg = 'color,count,existence'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node tools/phrasing-probe.mjs <run folder> [scenes] [tasks]');
  process.exit(1);
}
const run = await openRun(dir);
const instructions = run.config.data.instructions ?? {};
const plan = new PromptPlan({ seed: run.config.seed, heldOutPhrasings: instructions.heldOutPhrasings });
const scenes = run.world.scenes('test').slice(0, Number(scenesArg));
const rows = [];
for (const task of tasksArg.split(',')) {
  const heldOut = new Set(plan.heldOutPhrasings(task));
  for (const template of PHRASINGS[task]) {
    const rng = new Rng(1);
    let n = 0, right = 0;
    const wrong = {};
    for (const scene of scenes) {
      for (const q of taskQueries(scene, task, rng)) {
        const reply = (await run.answer(run.world.image(scene.id), fillTemplate(template, q.slots), { maxNewTokens: 6 })).trim();
        n++;
        // scored as eval.heldOut scores (exact match after the closed-set normalisation)
        if (isCorrect(q.answer, reply)) right++;
        else wrong[reply] = (wrong[reply] ?? 0) + 1;
      }
    }
    const common = Object.entries(wrong).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([w, c]) => `${w} x${c}`).join('; ');
    rows.push(`| ${task} | ${heldOut.has(template) ? 'held out' : 'trained'} | \`${template}\` | ${(right / n).toFixed(2)} (${n}) | ${common} |`);
  }
}
console.log(`${dir}\n| task | split | phrasing | accuracy (n) | commonest wrong replies |\n|---|---|---|---:|---|\n${rows.join('\n')}`);
