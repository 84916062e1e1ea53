/**
 * An npm consumer's view of mllm-ts: build a LLaVA-shaped model in code, train its connector
 * and LLM for a few steps on generated Shapes-world data, then caption a test image. A few
 * hundred steps give fluent but not yet faithful captions; `npm start` trains the real thing.
 */
import { initBackend } from '@mllm/core';
import { ShapesWorld, caption } from '@mllm/data';
import { buildModel, createComponentRegistry } from '@mllm/model';
import { WordTokenizer, applyChatTemplate } from '@mllm/tokenizer';
import { StageData, runStage, stageSchema } from '@mllm/training';

const backend = await initBackend(); // wasm here; tfjs-node when installed
const world = new ShapesWorld({ seed: 7, imageSize: 32, sizes: { train: 400, val: 20, test: 20 } });
const tokenizer = WordTokenizer.train(world.corpus());

const model = buildModel(
  {
    encoder: { type: 'vit', imageSize: 32, patchSize: 8, dim: 32, layers: 2, heads: 2 },
    connector: { type: 'mlp', depth: 2 },
    llm: { type: 'causal', dim: 48, layers: 2, heads: 2 },
  },
  { registry: createComponentRegistry(), vocabSize: tokenizer.vocabSize, special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: 7 },
);
console.log(`backend ${backend.name}; ${model.numParameters()} parameters; ${model.tokensPerImage} visual tokens per image`);

const data = new StageData(world, tokenizer, 7);
for (const [i, stage] of [
  stageSchema.parse({ type: 'pretrain-llm', steps: 80, batchSize: 16, lr: 3e-3 }),
  stageSchema.parse({ type: 'align', steps: 40, batchSize: 16, lr: 3e-3 }),
  stageSchema.parse({ type: 'instruct', steps: 120, batchSize: 16, lr: 3e-3 }),
].entries()) {
  const result = await runStage(stage, i, model, data);
  console.log(`${result.name}: loss ${result.finalLoss.toFixed(3)} (validation ${result.valLoss.toFixed(3)}) in ${result.seconds.toFixed(1)} s`);
}

const scene = world.scenes('test')[0]!;
const { ids } = applyChatTemplate(tokenizer, [{ from: 'human', value: '<image>\ndescribe the image .' }], { addGenerationPrompt: true });
const [out] = model.generate([{ ids, lossMask: ids.map(() => 0), images: [world.image(scene.id)] }], {
  maxNewTokens: 30,
  stopTokens: [tokenizer.special.end, tokenizer.special.eos],
});
console.log(`truth:     ${caption(scene)}`);
console.log(`generated: ${tokenizer.decode(out!)}`);
