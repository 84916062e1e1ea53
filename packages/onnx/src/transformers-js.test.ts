import { describe, it, expect } from 'vitest';
import { basename, dirname } from 'node:path';
import { readFile } from 'node:fs/promises';
import { WordTokenizer, applyChatTemplate } from '@mllm/tokenizer';
import { buildModel, createComponentRegistry } from '@mllm/model';
import { exportModel } from './export-model';
import { OnnxMultimodalModel } from './runtime';
import { sharpen, tempDir, testImage } from './test-model.test-helper';

const SEED = 5; // a seed whose greedy answer runs the full 10 tokens, so every decode step is compared
const corpus = ['what color is the circle ?', 'the circle is red .', 'is there a blue square ? yes', 'a green triangle left of a red circle'];

/**
 * The exported LLaVA-shaped folder read by transformers.js from npm, local files only:
 * processor (chat template, <image> expansion, CLIP preprocessing), model and greedy generate.
 */
describe('transformers.js interop', () => {
  it.each([
    ['mlp', 'fp32', false, { type: 'mlp' }],
    ['qformer', 'fp32', false, { type: 'qformer', numQueries: 6, layers: 1, heads: 2 }],
    ['mlp', 'int8', false, { type: 'mlp' }],
    // weights in onnx/*.onnx_data, found through config.json's use_external_data_format
    ['mlp', 'fp16', true, { type: 'mlp' }],
    // a SigLIP-style tower (no CLS token: every patch is an image token)
    ['mlp + siglip tower', 'fp32', false, { type: 'mlp' }, { variant: 'siglip', activation: 'gelu-tanh' }],
    // tied word embeddings (SmolLM2): the decoder's head is the embedding table, transposed
    ['mlp, tied embeddings', 'fp32', false, { type: 'mlp' }, undefined, true],
    // head width 16: the decoder on onnxruntime's contrib ops (GroupQueryAttention, RotaryEmbedding)
    ['mlp, contrib-op decoder', 'fp32', false, { type: 'mlp' }, undefined, false, { dim: 32, heads: 2, kvHeads: 1 }],
    ['mlp, contrib-op decoder', 'int8', false, { type: 'mlp' }, undefined, false, { dim: 32, heads: 2, kvHeads: 1 }],
  ] as const)('%s connector, %s weights (external data: %s): loads the folder and generates token-for-token what ORT (and for fp32, tfjs) generates', async (name, weights, externalData, connector, tower?: Record<string, unknown>, tie?: boolean, llm?: { dim: number; heads: number; kvHeads: number }) => {
    const tokenizer = WordTokenizer.train(corpus);
    const model = sharpen(buildModel(
      {
        encoder: { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 2, heads: 2, ...tower },
        connector,
        llm: { type: 'causal', dim: 16, layers: 2, heads: 4, kvHeads: 2, tieWordEmbeddings: tie ?? false, ...llm },
      },
      { registry: createComponentRegistry(), vocabSize: tokenizer.vocabSize, special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: SEED },
    ), SEED);
    const dir = `${tempDir('mllm-onnx-tjs-')}/tiny-llava`;
    await exportModel(model, dir, { tokenizer, weights, externalData });
    const config = JSON.parse(await readFile(`${dir}/config.json`, 'utf8'));
    expect(config.model_type).toBe('llava');
    expect(config.text_config.num_key_value_heads).toBe(llm?.kvHeads ?? 2);

    const prompt = 'what color is the circle ?';
    const image = testImage(5);
    const { ids } = applyChatTemplate(tokenizer, [{ from: 'human', value: `<image>\n${prompt}` }], { addGenerationPrompt: true });
    const stops = [tokenizer.special.end, tokenizer.special.eos];
    const maxNewTokens = 10;
    const tfjs = model.generate([{ ids, lossMask: ids.map(() => 0), images: [image] }], { maxNewTokens, stopTokens: stops })[0]!;
    const ort = await OnnxMultimodalModel.load(dir);
    const ours = (await ort.generate([{ ids, images: [image] }], { maxNewTokens, stopTokens: stops }))[0]!;
    await ort.release();
    // int8 and fp16 weights change the logits: their reference is ORT on the same files
    if (weights === 'fp32') expect(ours).toEqual(tfjs);
    if (name === 'mlp' && weights === 'fp32') expect(tfjs.length).toBe(maxNewTokens);

    const { AutoProcessor, LlavaForConditionalGeneration, RawImage, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = dirname(dir);
    const processor = await AutoProcessor.from_pretrained(basename(dir));
    const text = processor.tokenizer!.apply_chat_template([{ role: 'user', content: `<image>\n${prompt}` }], { add_generation_prompt: true, tokenize: false }) as string;
    const raw = new RawImage(Uint8ClampedArray.from(image, (v) => Math.round(v * 255)), 8, 8, 3);
    const inputs = await processor(raw, text);
    const m = model.tokensPerImage;
    const expanded = ids.flatMap((id) => (id === tokenizer.special.image ? new Array<number>(m).fill(id) : [id]));
    expect(Array.from(inputs.input_ids.data as BigInt64Array, Number)).toEqual(expanded);

    // no dtype given: transformers.js reads it from config.json's transformers.js_config (fp32, fp16 -> *_fp16.onnx, q8 -> *_quantized.onnx)
    const hf = await LlavaForConditionalGeneration.from_pretrained(basename(dir));
    const out = (await hf.generate({ ...inputs, max_new_tokens: maxNewTokens, do_sample: false })) as { data: BigInt64Array; dims: number[] };
    const generated = Array.from(out.data, Number).slice(expanded.length);
    // transformers.js keeps the stop token it ended on; ours leaves it out
    const theirs = stops.includes(generated.at(-1)!) ? generated.slice(0, -1) : generated;
    console.log(`interop greedy ids (${name}, ${weights})`, JSON.stringify({ tfjs, ours, transformersJs: generated }));
    expect(theirs).toEqual(ours);
    await hf.dispose();
    model.dispose();
  });
});
