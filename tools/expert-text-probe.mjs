#!/usr/bin/env node
// What an expert bridge's text gets right per object attribute on a run's test scenes, from any
// run folder (or a copy of a mid-run checkpoint: config.json, tokenizer files, model.safetensors).
// Encoder pre-training alone decides it, so it is known as soon as the pretrain-encoder stage ends.
//   node tools/expert-text-probe.mjs /tmp/bridge-probe/expert-seed0 [more folders]
import * as tf from '@tensorflow/tfjs';
import { ExpertBridge } from '@mllm/connector-expert';
import { attributeCheck } from '@mllm/data';
import { attributeRates } from '@mllm/eval';
import { openRun } from '@mllm/run';

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error('usage: node tools/expert-text-probe.mjs <run folder> [...]');
  process.exit(1);
}
for (const dir of dirs) {
  const run = await openRun(dir);
  if (!(run.model.connector instanceof ExpertBridge)) throw new Error(`${dir}: connector is not the expert bridge`);
  const scenes = run.world.scenes('test').slice(0, run.config.eval.scenes ?? Infinity);
  const features = run.model.encodeFeatures(scenes.map((s) => run.world.image(s.id)));
  const found = run.model.connector.detector.detect(features);
  const texts = run.model.connector.describe(features);
  tf.dispose(features);
  // which shape the expert wrote for each true shape, cell by cell ("-" for a cell it left empty)
  const confusion = {};
  scenes.forEach((s, i) =>
    s.objects.forEach((o) => {
      const said = found[i].find((d) => d.cell === o.cell)?.shape ?? '-';
      if (said !== o.shape) confusion[`${o.shape}->${said}`] = (confusion[`${o.shape}->${said}`] ?? 0) + 1;
    }),
  );
  const phantom = scenes.reduce((n, s, i) => n + found[i].filter((d) => !s.objects.some((o) => o.cell === d.cell)).length, 0);
  const rates = attributeRates(scenes.map((s, i) => attributeCheck(s, texts[i])));
  const exact = scenes.filter((s, i) => Object.values(attributeCheck(s, texts[i])).every((t) => t.correct === t.total)).length / scenes.length;
  console.log(JSON.stringify({ dir, scenes: scenes.length, accuracy: rates.accuracy, exactScenes: exact, shapeErrors: confusion, phantomObjects: phantom, sample: texts.slice(0, 3) }));
  run.dispose();
}
