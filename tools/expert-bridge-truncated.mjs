#!/usr/bin/env node
// A reduced-budget look at a run that cannot finish in time: continue its checkpoint (taken after
// its align stage) with the config's instruct stage cut to <steps> steps, then the run's
// evaluation on <scenes> test scenes, written to <out.json>.
//   node tools/expert-bridge-truncated.mjs <run folder> <steps> <scenes> <out.json>
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, loadSafetensors, silentLogger } from '@mllm/core';
import { WordTokenizer } from '@mllm/tokenizer';
import { createSession, evaluateSession, createRegistry } from '@mllm/run';
import { parseRunConfig, runStage, StageData } from '@mllm/training';

const [dir, steps, scenes, out] = process.argv.slice(2);
await initBackend({ logger: silentLogger });
const registry = createRegistry();
const raw = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
const config = parseRunConfig({ ...raw, eval: { ...raw.eval, scenes: Number(scenes) } }, registry);
const tokenizer = await WordTokenizer.load(dir);
const session = createSession(config, registry, tokenizer);
const weights = existsSync(join(dir, 'checkpoint', 'model.safetensors')) ? join(dir, 'checkpoint', 'model.safetensors') : join(dir, 'model.safetensors');
const { tensors } = await loadSafetensors(weights);
session.model.loadStateDict(tensors);
const index = config.stages.findIndex((s) => s.type === 'instruct');
const stage = { ...config.stages[index], steps: Number(steps) };
const started = Date.now();
const result = await runStage(stage, index, session.model, new StageData(session.world, session.tokenizer, config.seed));
const evalReport = await evaluateSession(session);
writeFileSync(out, JSON.stringify({ dir, steps: Number(steps), scenes: Number(scenes), instruct: { finalLoss: result.finalLoss, valLoss: result.valLoss }, seconds: (Date.now() - started) / 1000, eval: evalReport }, null, 2));
console.log('done', out);
