#!/usr/bin/env node
// Where a run's reasoning chains go wrong, per question type, on the first N test scenes:
// how many chains answer right, how many have steps that imply the true answer, how many
// contradict their own steps, and for counts whether the running tally disagrees with the
// objects the chain lists (a tally on an object that does not match, or a match left out); for
// spatial chains how many list every cell right (listRight), and of their placements of the two
// named objects how many name the object the question asks about (namedAsAsked), put it in its
// true cell (placedTrue) and in the cell the chain's own list gave it (placedAsListed); for
// scanned chains, of the checks written while reading the cells ("..., the red circle needs the
// left , yes .") how many name an asked object (checksOnAsked), name the side the relation needs
// it on (checksSideRight), and also answer right for the object's true cell (checksRight).
//   node tools/chain-probe.mjs RUN [scenes=30]
import { Rng } from '@mllm/core';
import { ANSWER_MARKER, NUMBER_WORDS, chainImpliedAnswer, reasoningQuestions } from '@mllm/data';
import { finalAnswer } from '@mllm/eval';
import { withReasoningPrompt } from '@mllm/data/internal';
import { openRun } from '@mllm/run';

const [dir, scenesArg = '30'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node tools/chain-probe.mjs <run folder> [scenes]');
  process.exit(1);
}
// the side of the grid a relation needs its first and its second object on
const SIDES_NEEDED = { 'left of': ['left', 'right'], 'right of': ['right', 'left'], above: ['top', 'bottom'], below: ['bottom', 'top'] };
const run = await openRun(dir);
const scenes = run.world.scenes('test').slice(0, Number(scenesArg));
const rng = new Rng(1);
const byType = {};
const contradictions = [];
for (const scene of scenes) {
  const image = run.world.image(scene.id);
  for (const q of reasoningQuestions(scene, rng)) {
    const chain = await run.answer(image, withReasoningPrompt(q.question), { maxNewTokens: 100 });
    const stated = finalAnswer(chain, ANSWER_MARKER); // as the reasoning evaluation parses it
    const implied = chainImpliedAnswer(q.question, chain);
    const t = (byType[q.type] ??= { n: 0, right: 0, stepsImplyTruth: 0, inconsistent: 0 });
    t.n++;
    if (stated === q.answer) t.right++;
    if (implied === q.answer) t.stepsImplyTruth++;
    if (implied !== stated) t.inconsistent++;
    if (q.type === 'spatial') {
      // the chain's own list of cells (described chains), then its placements of the two named objects
      const listed = new Map([...chain.matchAll(/the (top left|top right|bottom left|bottom right) has a \w+ (\w+) (\w+)/g)].map((m) => [`${m[2]} ${m[3]}`, m[1]]));
      const truth = new Map(scene.objects.map((o) => [`${o.color} ${o.shape}`, o.cell]));
      const named = [q.about.a, q.about.b];
      if (listed.size > 0) t.listRight = (t.listRight ?? 0) + (listed.size === truth.size && [...truth].every(([k, v]) => listed.get(k) === v) ? 1 : 0);
      const checks = [...chain.matchAll(/, the (\w+) (\w+) needs the (\w+) , (yes|no) \./g)];
      if (checks.length > 0) {
        const sides = SIDES_NEEDED[q.about.relation];
        t.checks = (t.checks ?? 0) + checks.length;
        for (const [, color, shape, side, verdict] of checks) {
          const role = named.findIndex((o) => o.color === color && o.shape === shape);
          if (role < 0) continue;
          t.checksOnAsked = (t.checksOnAsked ?? 0) + 1;
          if (side !== sides[role]) continue;
          t.checksSideRight = (t.checksSideRight ?? 0) + 1;
          if ((verdict === 'yes') === truth.get(`${color} ${shape}`).includes(side)) t.checksRight = (t.checksRight ?? 0) + 1;
        }
      }
      // the placements that stand as their own step, in the question's order (a mark is not one)
      [...chain.matchAll(/(?<=^|\. )the (\w+) (\w+) is at the (\w+ \w+) \./g)].slice(0, 2).forEach((m, i) => {
        t.placements = (t.placements ?? 0) + 1;
        if (m[1] === named[i].color && m[2] === named[i].shape) t.namedAsAsked = (t.namedAsAsked ?? 0) + 1;
        if (truth.get(`${m[1]} ${m[2]}`) === m[3]) t.placedTrue = (t.placedTrue ?? 0) + 1;
        if (listed.size > 0 && listed.get(`${m[1]} ${m[2]}`) === m[3]) t.placedAsListed = (t.placedAsListed ?? 0) + 1;
      });
    }
    if (q.type === 'count') {
      const lastTally = [...chain.matchAll(new RegExp(`, (${NUMBER_WORDS.slice(1).join('|')}) \\.`, 'g'))].at(-1)?.[1] ?? 'zero';
      if (lastTally !== implied) t.tallyNotListed = (t.tallyNotListed ?? 0) + 1;
    }
    if (implied !== stated && contradictions.length < 10) contradictions.push({ question: q.question, truth: q.answer, chain });
  }
}
console.log(JSON.stringify({ dir, scenes: scenes.length, byType }, null, 1));
for (const c of contradictions) console.log(JSON.stringify(c));
run.dispose();
