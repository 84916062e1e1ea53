// A user's ESM program against the packed packages: compiled with strict TypeScript
// (module nodenext) in a fresh project outside the repository, then run.
//   node main.mjs <config.json> <run dir>
import { readFile } from 'node:fs/promises';
import { initBackend, type BackendInfo, type Logger } from '@mllm/core';
import { buildModel, createComponentRegistry, type MultimodalModel } from '@mllm/model';
import { openRun, run, type OpenedRun, type RunReportJson } from '@mllm/run';
import { ortEngine, type OrtPackage } from '@mllm/onnx/runtime';

const [configPath, runDir] = process.argv.slice(2);
if (!configPath || !runDir) throw new Error('usage: node main.mjs <config.json> <run dir>');

const warnings: string[] = [];
const logger: Logger = { info: () => {}, warn: (m) => warnings.push(m) };

// the wasm engine is a dependency of @mllm/core, so `auto` finds it in a plain install
const backend: BackendInfo = await initBackend({ logger });
if (backend.name !== 'wasm') throw new Error(`expected the wasm backend in a plain install, got ${backend.name} (${warnings.join('; ')})`);

const model: MultimodalModel = buildModel(
  { encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 1, heads: 2 }, connector: { type: 'mlp' }, llm: { type: 'causal', dim: 16, layers: 1, heads: 2 } },
  { registry: createComponentRegistry(), vocabSize: 32, special: { imageTokenId: 4, padId: 0 }, seed: 0 },
);
const parameters = model.numParameters();
model.dispose();

const config: unknown = JSON.parse(await readFile(configPath, 'utf8'));
const report: RunReportJson = await run(config, { out: runDir, force: true, logger });

const opened: OpenedRun = await openRun(runDir);
const scene = opened.world.scenes('test')[0];
if (!scene) throw new Error('the run has no test scenes');
const answer: string = await opened.answer(opened.world.image(scene.id), 'what color is the shape?');
opened.dispose();

const ort: OrtPackage = ortEngine().package;
console.log(JSON.stringify({ backend: backend.name, parameters, trainedStages: report.stages.length, answer, ort }));
