#!/usr/bin/env node
// Why visual contrastive decoding (VCD) does or does not remove a run's hallucinations. For each
// test scene the run's model describes the image (greedy, as the evaluation does); at every size
// and cell word of an object that is there, the word it wrote is compared with the other choice
// (the true one where it erred, the wrong one where it was right) under the real image and under
// VCD's distorted image (diffusion noise at step 500). VCD decodes with
// (1 + alpha) * logit(real) - alpha * logit(distorted), so it fixes an error when that contrast
// puts the true word first, and breaks a right word when it puts the wrong one first.
//   node tools/vcd-probe.mjs RUN [scenes=200] [alpha=1]
import * as tf from '@tensorflow/tfjs';
import { DETAIL_PROMPT } from '@mllm/data';
import { diffusionNoised } from '@mllm/model';
import { openRun } from '@mllm/run';
import { applyChatTemplate } from '@mllm/tokenizer';

const [dir, scenesArg = '200', alphaArg = '1'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node tools/vcd-probe.mjs <run folder> [scenes] [alpha]');
  process.exit(1);
}
const alpha = Number(alphaArg);
const run = await openRun(dir);
const { model, tokenizer, world } = run;
const scenes = world.scenes('test').slice(0, Number(scenesArg));
const prompt = applyChatTemplate(tokenizer, [{ from: 'human', value: `<image>\n${DETAIL_PROMPT}` }], { addGenerationPrompt: true }).ids;
const stop = [tokenizer.special.end, tokenizer.special.eos];
const SIZES = ['small', 'large'];
const ROWS = ['top', 'bottom'];
const COLUMNS = ['left', 'right'];

/** Next-token logits at each answer position [A, V], for the prompt + answer with `image`. */
function answerLogits(answer, image) {
  const ids = [...prompt, ...answer];
  const batch = model.collate([{ ids, lossMask: ids.map((_, i) => (i >= prompt.length ? 1 : 0)), images: [image] }]);
  const rows = batch.weights[0].flatMap((w, t) => (w > 0 ? [t] : []));
  return tf.tidy(() => model.forward(batch).squeeze([0]).gather(rows).arraySync());
}

// per kind (size, cell): errors VCD fixes / errors, right words VCD breaks / right words; and the mean real - distorted logit gap of the written word
const tally = { size: { errors: 0, fixed: 0, right: 0, broken: 0, gapErr: 0, gapRight: 0 }, cell: { errors: 0, fixed: 0, right: 0, broken: 0, gapErr: 0, gapRight: 0 } };
for (const scene of scenes) {
  const image = world.image(scene.id);
  const [answer] = model.generate([{ ids: prompt, lossMask: prompt.map(() => 0), images: [image] }], { maxNewTokens: run.config.eval.maxNewTokens, stopTokens: stop });
  const words = answer.map((id) => tokenizer.decode([id]).trim());
  const real = answerLogits(answer, image);
  const distorted = answerLogits(answer, diffusionNoised([image], { noiseStep: 500, seed: 0 }, model.encoder.pixelNormalization)[0]);
  const judge = (kind, at, options, truth) => {
    const written = words[at];
    const other = options.find((o) => o !== written);
    const [w, o] = [tokenizer.encode(written)[0], tokenizer.encode(other)[0]];
    const margin = (logits) => logits[at][w] - logits[at][o];
    const contrast = (1 + alpha) * margin(real) - alpha * margin(distorted);
    const t = tally[kind];
    const gap = real[at][w] - distorted[at][w];
    if (written === truth) {
      t.right++;
      t.gapRight += gap;
      if (contrast < 0) t.broken++;
    } else {
      t.errors++;
      t.gapErr += gap;
      if (contrast < 0) t.fixed++;
    }
  };
  // "a [size] color shape is at the row column ."
  for (let i = 0; i + 2 < words.length; i++) {
    const [color, shape] = [words[i + 1], words[i + 2]];
    if (!SIZES.includes(words[i])) continue;
    const matches = scene.objects.filter((o) => o.color === color && o.shape === shape);
    if (matches.length === 0) continue; // an absent object has no true size or cell to compare with
    const at = words.indexOf('at', i + 3) === i + 4 && words[i + 5] === 'the' ? i + 6 : -1;
    const cell = at > 0 ? `${words[at]} ${words[at + 1]}` : undefined;
    const target = matches.find((o) => o.cell === cell) ?? matches[0];
    judge('size', i, SIZES, target.size);
    if (at > 0 && ROWS.includes(words[at]) && COLUMNS.includes(words[at + 1])) {
      const [row, column] = target.cell.split(' ');
      // the first cell word that commits: the row, then the column given a right row
      if (words[at] !== row) judge('cell', at, ROWS, row);
      else {
        judge('cell', at, ROWS, row);
        judge('cell', at + 1, COLUMNS, column);
      }
    }
  }
}
const fmt = (x) => (Number.isFinite(x) ? x.toFixed(3) : '-');
console.log(`${dir}: ${scenes.length} scenes, VCD alpha ${alpha}, noise step 500`);
console.log('| word | errors | fixed by VCD | right words | broken by VCD | real - distorted logit, errors | same, right words |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const [kind, t] of Object.entries(tally))
  console.log(`| ${kind} | ${t.errors} | ${t.fixed} (${fmt(t.fixed / t.errors)}) | ${t.right} | ${t.broken} (${fmt(t.broken / t.right)}) | ${fmt(t.gapErr / t.errors)} | ${fmt(t.gapRight / t.right)} |`);
run.dispose();
