#!/usr/bin/env node
// What a run answers to the k-shot prompts of its few-shot evaluation (the episodes report.json's
// eval.icl scored, rebuilt from the run's config), per task: how often the answer is one of the
// labels the demonstrations show, the label of the demonstration nearest the query (the last),
// of the first, of the one whose key is the query's (then it is right), or a word no
// demonstration shows. Tells copying a shown label from matching the query to a demonstration.
//   node tools/icl-probe.mjs RUN [shots=4]
import { buildEvalSet, openRun } from '@mllm/run';
import { iclAnswer } from '@mllm/eval';

const [dir, shotsArg = '4'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node tools/icl-probe.mjs <run folder> [shots]');
  process.exit(1);
}
const k = Number(shotsArg);
const run = await openRun(dir);
const set = buildEvalSet(run.world, run.config).icl;
if (!set) throw new Error(`${dir}: the run's config has no eval.icl`);
const result = {};
for (const [task, episodes] of Object.entries(set.tasks)) {
  const tally = { prompts: 0, right: 0, shownLabel: 0, lastLabel: 0, firstLabel: 0, unshown: 0 };
  for (const e of episodes) {
    const shown = e.byShots?.[String(k)] ?? e.demonstrations.slice(0, k);
    const demonstrations = shown.map((d) => ({ image: run.world.image(d.sceneId), question: d.question, answer: d.answer }));
    const reply = iclAnswer(await run.answer(run.world.image(e.sceneId), e.question, { demonstrations, maxNewTokens: 4 }));
    const labels = shown.map((d) => d.answer.toLowerCase());
    tally.prompts++;
    if (reply === e.answer.toLowerCase()) tally.right++;
    if (labels.includes(reply)) tally.shownLabel++;
    else tally.unshown++;
    if (reply === labels.at(-1)) tally.lastLabel++;
    if (reply === labels[0]) tally.firstLabel++;
  }
  result[task] = Object.fromEntries(Object.entries(tally).map(([key, n]) => [key, key === 'prompts' ? n : Number((n / tally.prompts).toFixed(3))]));
}
console.log(JSON.stringify({ dir, shots: k, tasks: result }, null, 1));
run.dispose();
