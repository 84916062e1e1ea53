#!/usr/bin/env node
// Where a run's reasoning chains go wrong, per question type, on the first N test scenes:
// how many chains answer right, how many have steps that imply the true answer, how many
// contradict their own steps, and for counts whether the running tally disagrees with the
// objects the chain lists (a tally on an object that does not match, or a match left out); for
// spatial chains how many list every cell right (listRight), and of their placements of the two
// named objects how many name the object the question asks about (namedAsAsked), put it in its
// true cell (placedTrue) and in the cell the chain's own list gave it (placedAsListed); for
// scanned chains, of the marks written while reading the cells ("..., the red circle is left .")
// how many name an asked object (marksOnAsked) and give its true column or row (marksSideTrue),
// how many chains start by copying the question's first object (startsWithFirst), and whether the
// step that says if it was read first names it (orderNamesFirst) and is right (orderRight).
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
// the order a chain reads the cells in
const CELL_ORDER = ['top left', 'top right', 'bottom left', 'bottom right'];
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
      const marks = [...chain.matchAll(/, the (\w+) (\w+) is (left|right|top|bottom) \./g)];
      if (marks.length > 0) {
        const dimension = q.about.relation.endsWith('of') ? 1 : 0; // a cell is "row column"
        t.marks = (t.marks ?? 0) + marks.length;
        t.marksOnAsked = (t.marksOnAsked ?? 0) + marks.filter((m) => named.some((o) => o.color === m[1] && o.shape === m[2])).length;
        t.marksSideTrue = (t.marksSideTrue ?? 0) + marks.filter((m) => truth.get(`${m[1]} ${m[2]}`)?.split(' ')[dimension] === m[3]).length;
        const [a, b] = named;
        const aReadFirst = CELL_ORDER.indexOf(truth.get(`${a.color} ${a.shape}`)) < CELL_ORDER.indexOf(truth.get(`${b.color} ${b.shape}`));
        const startsWithFirst = chain.startsWith(`first asked : the ${a.color} ${a.shape} .`);
        if (startsWithFirst) t.startsWithFirst = (t.startsWithFirst ?? 0) + 1;
        const order = /read first : the (\w+) (\w+) \. first asked : the (\w+) (\w+) \. (not )?the same \./.exec(chain);
        if (order && order[3] === a.color && order[4] === a.shape) {
          t.orderNamesFirst = (t.orderNamesFirst ?? 0) + 1;
          if (!order[5] === aReadFirst) t.orderRight = (t.orderRight ?? 0) + 1;
        }
      }
      // the placements that stand as their own step, in the question's order
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
