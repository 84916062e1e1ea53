#!/usr/bin/env node
// Trains the HaELM-style judge LM (and the local rubric judge) of `eval.judges` and prints its
// agreement with the exact checker on held-out responses: edited descriptions of the test
// scenes and, with --run DIR, the detailed descriptions that finished run's model gives of them.
// The same measurement a run with eval.judges makes, without training the multimodal model again.
//   npm run build && node tools/judge-agreement.mjs --run /tmp/default-run --seed 0 [--set steps=400 --set dim=48 --set reference=evidence --set modelResponses=1000 ...] [--rubric]
import { parseArgs } from 'node:util';
import { initBackend, setMatMulEngine } from '@mllm/core';
import { DETAIL_PROMPT } from '@mllm/data';
import { judgesSchema } from '@mllm/training/internal';
import { answererDescriber, createWorld, modelAnswerer, openRun, runJudges } from '@mllm/run';

const { values } = parseArgs({ options: { run: { type: 'string' }, seed: { type: 'string', default: '0' }, set: { type: 'string', multiple: true, default: [] }, rubric: { type: 'boolean', default: false } } });
const haelm = Object.fromEntries(values.set.map((kv) => kv.split('=')).map(([k, v]) => [k, Number.isNaN(Number(v)) ? v : Number(v)]));
const judges = judgesSchema.parse({ haelm, ...(values.rubric && { rubric: {} }) });
const seed = Number(values.seed);
const backend = await initBackend({});
setMatMulEngine('auto', { threads: 1 });
const logger = { info: (m) => process.stderr.write(`${m}\n`), warn: (m) => process.stderr.write(`${m}\n`), error: (m) => process.stderr.write(`${m}\n`), debug: () => {} };
let world;
let describe;
let descriptions = [];
if (values.run) {
  const opened = await openRun(values.run);
  world = opened.world;
  const answerer = modelAnswerer(opened.model, opened.tokenizer, world, opened.config.eval.maxNewTokens);
  // the model's detailed descriptions of `scenes`, 50 at a time (for the held-out set, and for
  // the judge's training where --set modelResponses=N asks)
  describe = answererDescriber(answerer, 50);
  const scenes = world.scenes('test').slice(0, opened.config.eval.scenes ?? Infinity);
  const texts = await describe(scenes);
  descriptions = scenes.map((s, k) => ({ sceneId: s.id, text: texts[k] }));
} else {
  world = createWorld({ seed, encoder: { imageSize: 32 }, data: { train: 4000, val: 200, test: 200 } });
}
const report = await runJudges(judges, world, seed, logger, describe)(descriptions);
process.stdout.write(`${JSON.stringify({ backend: backend.name, seed, run: values.run ?? null, judges, descriptions: descriptions.length, report }, null, 2)}\n`);
