import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { loadSafetensors, readSafetensorsHeader, saveSafetensors, silentLogger } from '@mllm/core';
import type { VisionTransformer } from '@mllm/encoders';
import { HfTokenizer, applyChatTemplate } from '@mllm/tokenizer';
import { run } from './run';
import { openRun, type OpenedRun } from './open-run';
import { exportHfCheckpoint } from './export-hf';
import { exportCheckpoint } from './export';
import { hfLlavaParts, HfExportError } from './export-hf-parts';
import { maxAbsDiff, ourLogits, perturb, referenceLogits, torchPython, type ReferenceInput } from './export-hf-reference.test-helper';
import { writeTinyHfClip } from './hf-vision-folder.test-helper';
import { writeTinyHfCausalLm } from '../../../packages/llm/src/hf-reference.test-helper';
import { tinyHfTokenizerFiles } from '../../../packages/tokenizer/src/hf-tokenizer.test-helper';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));
// one short stage: the test is about the export, not the training
const short = { stages: [{ type: 'align', steps: 2, batchSize: 4, checkpointEvery: 0, evalEvery: 0 }], eval: { scenes: 2, popePerImage: 2, batchSize: 8, maxNewTokens: 4 } };
const { python, reason } = torchPython();
const TOLERANCE = 1e-4;

/** Trains `config` briefly, then redraws every parameter (seeded) so no bias or norm is at its initial value. */
async function trainedRun(config: Record<string, unknown>): Promise<string> {
  const out = join(mkdtempSync(join(tmpdir(), 'hf-export-')), 'run');
  await run({ ...tiny, ...short, ...config }, { out, logger: silentLogger });
  const session = await openRun(out);
  perturb(session.model);
  await saveSafetensors(join(out, 'model.safetensors'), session.model.stateDict(), { format: 'pt' });
  session.model.dispose();
  return out;
}

/** Two rows, the same length: one image in the first, two in the second, text around them. */
function prompts(session: OpenedRun): ReferenceInput {
  const { image, bos, user, end, assistant } = session.tokenizer.special;
  const m = session.model.tokensPerImage;
  const words = [9, 10, 11, 12, 13].map((i) => i % session.model.llm.vocabSize);
  const img = new Array<number>(m).fill(image);
  // an HF tokenizer without role tokens maps user / assistant to the image id: those are left out
  const roles = (...ids: number[]) => ids.filter((id) => id !== image);
  const rows = [
    [bos, ...roles(user), ...img, ...words, ...words, ...roles(end, assistant), words[0]!],
    [bos, ...roles(user), ...img, words[1]!, ...img, ...words.slice(0, 3), ...roles(end, assistant)],
  ];
  const length = Math.max(...rows.map((r) => r.length));
  const inputIds = rows.map((r) => [...r, ...new Array<number>(length - r.length).fill(words[2]!)]);
  const s = session.model.encoder.imageSize;
  const picture = (seed: number) => Float32Array.from({ length: s * s * 3 }, (_, i) => (Math.sin(i * 0.37 + seed) + 1) / 2);
  return { inputIds, images: [picture(1), picture(2), picture(3)] };
}

/** Exports `runDir` and returns max |reference - ours| over every logit. */
async function parity(runDir: string, dtype?: string): Promise<{ diff: number; dir: string; session: OpenedRun; input: ReferenceInput; ours: number[][][] }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'hf-export-out-')), 'llava');
  await exportHfCheckpoint({ checkpoint: runDir, out: dir, dtype, logger: silentLogger });
  const session = await openRun(runDir);
  const input = prompts(session);
  const ours = ourLogits(session.model, input);
  const diff = maxAbsDiff(referenceLogits(python!, dir, session.model.encoder as VisionTransformer, input), ours);
  return { diff, dir, session, input, ours };
}

describe('mllm export --format hf', () => {
  // .ci/run installs python3-torch and sets MLLM_REQUIRE_TORCH: there the parity tests may not skip
  it.runIf(!python && !!process.env.MLLM_REQUIRE_TORCH)('finds a python3 with torch where MLLM_REQUIRE_TORCH is set', () => {
    expect.fail(reason);
  });

  describe.skipIf(!python)(`against tools/reference/llava_forward.py (PyTorch)${python ? '' : `: skipped, ${reason}`}`, () => {
    let clipRun: string;
    let clip: Awaited<ReturnType<typeof parity>>;
    beforeAll(async () => {
      clipRun = await trainedRun({});
      clip = await parity(clipRun);
    });
    afterAll(() => clip.session.model.dispose());

    it('a run with our CLIP-style ViT + mlp + causal LM: logits within 1e-4', async () => {
      const { diff, dir, session } = clip;
      console.log(`hf export parity, tiny vit(clip, gelu) + mlp + causal: max |diff| ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(TOLERANCE);
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      expect(config).toMatchObject({ model_type: 'llava', image_token_index: 4, vision_feature_select_strategy: 'default', vision_feature_layer: -2, image_seq_length: 4, projector_hidden_act: 'gelu' });
      expect(config.vision_config).toMatchObject({ model_type: 'clip_vision_model', hidden_size: 16, num_hidden_layers: 2, hidden_act: 'gelu', image_size: 16, patch_size: 8 });
      expect(config.text_config).toMatchObject({ model_type: 'llama', hidden_size: 16, num_hidden_layers: 1, vocab_size: session.model.llm.vocabSize, tie_word_embeddings: false });
      const names = (await readSafetensorsHeader(join(dir, 'model.safetensors'))).entries.map((e) => e.name);
      expect(names).toContain('vision_tower.vision_model.embeddings.class_embedding');
      expect(names).toContain('multi_modal_projector.linear_2.bias');
      expect(names).toContain('language_model.model.layers.0.self_attn.q_proj.weight');
      expect(names).toContain('language_model.lm_head.weight');
      // LlavaProcessor: (16 / 8)^2 + 1 CLS, less one for "default" = the 4 tokens the model splices
      const processor = JSON.parse(readFileSync(join(dir, 'processor_config.json'), 'utf8'));
      expect((16 / processor.patch_size) ** 2 + processor.num_additional_image_tokens - 1).toBe(session.model.tokensPerImage);
    });

    it('fails when the folder is wrong: a permuted lm_head, or the projector\'s activation swapped for quick_gelu', async () => {
      const { dir, session, input, ours } = clip;
      const vit = session.model.encoder as VisionTransformer;
      const permuted = join(mkdtempSync(join(tmpdir(), 'hf-export-bad-')), 'llava');
      cpSync(dir, permuted, { recursive: true });
      const { tensors } = await loadSafetensors(join(permuted, 'model.safetensors'));
      const head = tensors['language_model.lm_head.weight']!;
      const rows = head.shape[0]!;
      tensors['language_model.lm_head.weight'] = tf.gather(head, Array.from({ length: rows }, (_, i) => (i + 1) % rows));
      await saveSafetensors(join(permuted, 'model.safetensors'), tensors, { format: 'pt' });
      tf.dispose([head, ...Object.values(tensors)]);
      expect(maxAbsDiff(referenceLogits(python!, permuted, vit, input), ours)).toBeGreaterThan(1e-2);

      const act = join(mkdtempSync(join(tmpdir(), 'hf-export-bad-')), 'llava');
      cpSync(dir, act, { recursive: true });
      const config = JSON.parse(readFileSync(join(act, 'config.json'), 'utf8'));
      writeFileSync(join(act, 'config.json'), JSON.stringify({ ...config, projector_hidden_act: 'quick_gelu' }));
      expect(maxAbsDiff(referenceLogits(python!, act, vit, input), ours)).toBeGreaterThan(1e-3);
    });

    it('a SigLIP-style ViT (no CLS, gelu-tanh, last layer): "full" strategy, logits within 1e-4', async () => {
      const siglip = await trainedRun({ encoder: { ...tiny.encoder, variant: 'siglip', activation: 'gelu-tanh', normEps: 1e-6, featureLayer: 'last' } });
      const { diff, dir, session } = await parity(siglip);
      console.log(`hf export parity, tiny vit(siglip, gelu-tanh) + mlp + causal: max |diff| ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(TOLERANCE);
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      expect(config).toMatchObject({ vision_feature_select_strategy: 'full', vision_feature_layer: -1 });
      expect(config.vision_config).toMatchObject({ model_type: 'siglip_vision_model', hidden_act: 'gelu_pytorch_tanh', vision_use_head: false });
      session.model.dispose();
    });

    it('a run from an HF CLIP (quick_gelu) and an HF Llama (GQA, tied, <image> added past its vocabulary): logits within 1e-4', async () => {
      const llmDir = join(mkdtempSync(join(tmpdir(), 'hf-export-')), 'tiny-llama');
      const tokenizer = tinyHfTokenizerFiles();
      await writeTinyHfCausalLm(llmDir, { config: { vocab_size: tokenizer.vocabSize }, tie: true });
      writeFileSync(join(llmDir, 'tokenizer.json'), tokenizer['tokenizer.json']);
      writeFileSync(join(llmDir, 'tokenizer_config.json'), tokenizer['tokenizer_config.json']);
      const clipDir = join(mkdtempSync(join(tmpdir(), 'hf-export-')), 'tiny-clip');
      await writeTinyHfClip(clipDir);
      const hfRun = await trainedRun({ encoder: { type: 'vit', from: `hf:${clipDir}` }, llm: { type: 'causal', from: `hf:${llmDir}` } });
      const { diff, dir, session } = await parity(hfRun);
      console.log(`hf export parity, HF CLIP + mlp + HF Llama: max |diff| ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(TOLERANCE);
      expect(session.tokenizer).toBeInstanceOf(HfTokenizer);
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      expect(config.vision_config.hidden_act).toBe('quick_gelu');
      expect(config.text_config.num_key_value_heads).toBeLessThan(config.text_config.num_attention_heads);
      // tied as the checkpoint is: one matrix in the run, none saved as lm_head, tied again by transformers on load
      expect(Object.keys(session.model.llm.stateDict())).not.toContain('lm_head.weight');
      expect(config.text_config.tie_word_embeddings).toBe(true);
      expect(config.tie_word_embeddings).toBe(true);
      const names = (await readSafetensorsHeader(join(dir, 'model.safetensors'))).entries.map((e) => e.name);
      expect(names).toContain('language_model.model.embed_tokens.weight');
      expect(names.some((n) => n.includes('lm_head'))).toBe(false);
      // the exported tokenizer knows <image> at the id config.json names
      const hf = new Tokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')));
      expect(hf.token_to_id('<image>')).toBe(config.image_token_index);
      expect(config.image_token_index).toBe(tokenizer.vocabSize);
      session.model.dispose();
    });

    it('--dtype bfloat16 stores BF16 tensors that the reference reads as the rounded weights', async () => {
      const { diff, dir, session } = await parity(clipRun, 'bfloat16');
      const entries = (await readSafetensorsHeader(join(dir, 'model.safetensors'))).entries;
      expect(new Set(entries.map((e) => e.dtype))).toEqual(new Set(['BF16']));
      expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
      // bf16 keeps 8 bits of mantissa: the logits move, but stay near
      console.log(`hf export bf16: max |diff| vs our fp32 logits ${diff.toExponential(2)}`);
      expect(diff).toBeGreaterThan(0);
      expect(diff).toBeLessThan(0.1);
      session.model.dispose();
    });
  });

  it('the word tokenizer\'s files: the chat template rendered by @huggingface/jinja, expanded as LlavaProcessor does, gives the ids the model trained on', async () => {
    const runDir = join(mkdtempSync(join(tmpdir(), 'hf-export-')), 'run');
    await run({ ...tiny, ...short }, { out: runDir, logger: silentLogger });
    const dir = join(mkdtempSync(join(tmpdir(), 'hf-export-out-')), 'llava');
    await exportHfCheckpoint({ checkpoint: runDir, out: dir, logger: silentLogger });
    const session = await openRun(runDir);
    const vocab = session.tokenizer.tokens().slice(8, 14);
    const conversation = [
      { from: 'human' as const, value: `<image>\n${vocab.slice(0, 3).join(' ')} ?` },
      { from: 'gpt' as const, value: `${vocab.slice(3).join(' ')} .` },
    ];
    const tokenizerConfig = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
    const processor = JSON.parse(readFileSync(join(dir, 'processor_config.json'), 'utf8'));
    const preprocessor = JSON.parse(readFileSync(join(dir, 'preprocessor_config.json'), 'utf8'));
    const messages = conversation.map((t) => ({ role: t.from === 'human' ? 'user' : 'assistant', content: t.value }));
    const text = new Template(tokenizerConfig.chat_template).render({ messages, bos_token: tokenizerConfig.bos_token, eos_token: tokenizerConfig.eos_token, add_generation_prompt: false });
    // LlavaProcessor: num_image_tokens = (height // patch) * (width // patch) + additional, less one for "default"
    const side = preprocessor.size.height / processor.patch_size;
    const imageTokens = side * side + processor.num_additional_image_tokens - (processor.vision_feature_select_strategy === 'default' ? 1 : 0);
    const expanded = text.replaceAll(processor.image_token, processor.image_token.repeat(imageTokens));
    const hf = new Tokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), tokenizerConfig);
    const ids = hf.encode(expanded, { add_special_tokens: true }).ids;
    // the training pipeline: the chat template's ids, each <image> spliced into tokensPerImage tokens
    const image = session.tokenizer.special.image;
    const ours = applyChatTemplate(session.tokenizer, conversation).ids.flatMap((id) => (id === image ? new Array<number>(session.model.tokensPerImage).fill(image) : [id]));
    expect(ids).toEqual(ours);
    expect(ids.filter((id) => id === session.tokenizer.special.unk)).toEqual([]);
    // the processor's template renders HF's multimodal messages (content items) to the same text
    const processorTemplate = JSON.parse(readFileSync(join(dir, 'chat_template.json'), 'utf8')).chat_template;
    const items = [
      { role: 'user', content: [{ type: 'image' }, { type: 'text', text: conversation[0]!.value.replace('<image>\n', '') }] },
      { role: 'assistant', content: [{ type: 'text', text: conversation[1]!.value }] },
    ];
    const specials = { bos_token: tokenizerConfig.bos_token, eos_token: tokenizerConfig.eos_token };
    expect(new Template(processorTemplate).render({ messages: items, ...specials, add_generation_prompt: false })).toBe(text);
    expect(new Template(processorTemplate).render({ messages: messages.slice(0, 1), ...specials, add_generation_prompt: true })).toBe(
      new Template(tokenizerConfig.chat_template).render({ messages: messages.slice(0, 1), ...specials, add_generation_prompt: true }),
    );
    session.model.dispose();
  });

  it('refuses parts LlavaForConditionalGeneration has no module for, naming the part and --format onnx', async () => {
    const runDir = join(mkdtempSync(join(tmpdir(), 'hf-export-')), 'run');
    await run({ ...tiny, ...short, connector: { type: 'linear' } }, { out: runDir, logger: silentLogger });
    const out = join(mkdtempSync(join(tmpdir(), 'hf-export-out-')), 'llava');
    const error = await exportCheckpoint({ checkpoint: runDir, out, format: 'hf', logger: silentLogger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HfExportError);
    expect((error as Error).message).toMatch(/connector \(type "linear"\).*--format onnx/);

    const session = await openRun(runDir);
    const { encoder, llm } = session.config;
    const refused = (configs: Parameters<typeof hfLlavaParts>[1]) => {
      try {
        hfLlavaParts(session.model, configs);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    const mlp = { type: 'mlp', depth: 2 };
    expect(refused({ encoder, connector: { type: 'mlp', depth: 3 }, llm })).toMatch(/connector\.depth 3/);
    expect(refused({ encoder, connector: { type: 'mlp', depth: 2, inputNorm: true }, llm })).toMatch(/connector\.inputNorm/);
    expect(refused({ encoder, connector: mlp, llm: { ...llm, type: 'prefix' } })).toMatch(/llm \(type "prefix"\)/);
    expect(refused({ encoder, connector: mlp, llm: { ...llm, ffn: { type: 'moe' } } })).toMatch(/llm\.ffn/);
    expect(refused({ encoder: { ...encoder, highRes: { strategy: 'tiles' } }, connector: mlp, llm })).toMatch(/encoder\.highRes/);
    expect(refused({ encoder: { type: 'conv' }, connector: mlp, llm })).toMatch(/encoder \(type "conv"\)/);
    await expect(exportCheckpoint({ checkpoint: runDir, out, format: 'safetensors', logger: silentLogger })).rejects.toThrow(/--format must be onnx or hf/);
    // a folder that is not an earlier export is left alone
    const foreign = mkdtempSync(join(tmpdir(), 'hf-export-foreign-'));
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    const mlpRun = join(mkdtempSync(join(tmpdir(), 'hf-export-')), 'run');
    await run({ ...tiny, ...short }, { out: mlpRun, logger: silentLogger });
    await expect(exportHfCheckpoint({ checkpoint: mlpRun, out: foreign, logger: silentLogger })).rejects.toThrow(/is not an earlier export.*notes\.txt/);
    expect(readFileSync(join(foreign, 'notes.txt'), 'utf8')).toBe('mine');
    await expect(exportCheckpoint({ checkpoint: runDir, out, format: 'hf', dtype: 'int8', logger: silentLogger })).rejects.toThrow(/--dtype must be one of fp32, fp16, bf16 for --format hf, got "int8"/);
    session.model.dispose();
  });
});
