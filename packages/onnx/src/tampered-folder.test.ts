import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { exportModel } from './export-model';
import { OnnxMultimodalModel } from './runtime';
import { GraphBuilder } from './graph-builder';
import { IMAGE, VOCAB, tempDir, testImage, tinyModel } from './test-model.test-helper';
import type { MultimodalModel } from '@mllm/model';

/**
 * A downloaded ONNX folder is input like any other: each test copies one valid export, breaks
 * one thing the way a user or an attacker would, and expects load (or the first answer) to
 * refuse it with the file, the field and what it found. The tiny export: 8x8 RGB images, 4
 * visual tokens, LLM width 16, 2 layers of 2 KV heads of width 4, 24 tokens.
 */

const DECODER = 'onnx/decoder_model_merged.onnx';
const ENCODER = 'onnx/vision_encoder.onnx';
const EMBED = 'onnx/embed_tokens.onnx';
const prompts = [1, 2].map((seed) => ({ ids: [1, IMAGE, 9, 10 + seed, 11], images: [testImage(seed)] }));
const greedy = { maxNewTokens: 6, stopTokens: [] as number[] };

let model: MultimodalModel;
let original: string;
let manifest: Record<string, any>;

beforeAll(async () => {
  model = tinyModel();
  original = join(tempDir('mllm-onnx-tamper-'), 'export');
  await exportModel(model, original, { maxPositions: 32 });
  manifest = JSON.parse(readFileSync(join(original, 'mllm.json'), 'utf8'));
});

afterAll(() => model.dispose());

/** A fresh copy of the valid export, broken by `tamper`. */
function tampered(tamper: (dir: string) => void): string {
  const dir = join(tempDir('mllm-onnx-tampered-'), 'model');
  cpSync(original, dir, { recursive: true });
  tamper(dir);
  return dir;
}

/** A copy whose mllm.json is `edit` of the original (deep-copied first). */
function withManifest(edit: (m: Record<string, any>) => void): string {
  return tampered((dir) => {
    const m = structuredClone(manifest);
    edit(m);
    writeFileSync(join(dir, 'mllm.json'), JSON.stringify(m));
  });
}

async function loadAndAnswer(dir: string): Promise<number[][]> {
  const ort = await OnnxMultimodalModel.load(dir, { threads: 1 });
  try {
    return await ort.generate(prompts, greedy);
  } finally {
    await ort.release();
  }
}

describe('an ONNX folder whose files leave it', () => {
  it.each([
    ['a ".." path', '../decoder_model_merged.onnx'],
    ['an absolute path', '/etc/passwd'],
    ['a Windows absolute path', 'C:\\model\\decoder.onnx'],
  ])('refuses %s in files.decoder by its JSON path, before reading anything', async (_name, path) => {
    const dir = withManifest((m) => (m.files.decoder = path));
    await expect(OnnxMultimodalModel.load(dir)).rejects.toThrow(
      `mllm.json: field "files.decoder" must be a path inside the model folder (not absolute, no "..") (got ${JSON.stringify(path)}); re-export the model with \`mllm export\``,
    );
  });

  it('refuses a graph that is a symlink to a file outside the folder, naming both', async () => {
    const outside = join(tempDir('mllm-onnx-outside-'), 'decoder.onnx');
    const dir = tampered((d) => {
      renameSync(join(d, DECODER), outside);
      symlinkSync(outside, join(d, DECODER));
    });
    await expect(OnnxMultimodalModel.load(dir)).rejects.toThrow(/decoder_model_merged\.onnx: leads to \S*decoder\.onnx, outside the model folder \S+ \(mllm\.json files\.decoder\)/);
  });

  it('refuses an mllm.json that is a symlink out of the folder', async () => {
    const outside = join(tempDir('mllm-onnx-outside-'), 'mllm.json');
    const dir = tampered((d) => {
      renameSync(join(d, 'mllm.json'), outside);
      symlinkSync(outside, join(d, 'mllm.json'));
    });
    await expect(OnnxMultimodalModel.load(dir)).rejects.toThrow(/mllm\.json: leads to \S+, outside the model folder/);
  });

  it('refuses a FIFO named as a graph instead of hanging on it', async () => {
    const dir = tampered((d) => {
      renameSync(join(d, DECODER), join(d, 'onnx', 'moved.onnx'));
      expect(spawnSync('mkfifo', [join(d, DECODER)]).status).toBe(0);
    });
    await expect(OnnxMultimodalModel.load(dir)).rejects.toThrow(/decoder_model_merged\.onnx: not a regular file \(mllm\.json files\.decoder\)/);
  });

  it('loads a graph that is a symlink within the folder, with the same answers', async () => {
    const dir = tampered((d) => {
      mkdirSync(join(d, 'blobs'));
      renameSync(join(d, DECODER), join(d, 'blobs', 'decoder'));
      symlinkSync('../blobs/decoder', join(d, DECODER));
    });
    expect(await loadAndAnswer(dir)).toEqual(await loadAndAnswer(original));
  });
});

describe('an ONNX folder with a broken, swapped or foreign graph', () => {
  it('refuses a truncated graph, naming the file', async () => {
    const dir = tampered((d) => {
      const bytes = readFileSync(join(d, DECODER));
      writeFileSync(join(d, DECODER), bytes.subarray(0, Math.floor(bytes.length / 2)));
    });
    await expect(OnnxMultimodalModel.load(dir)).rejects.toThrow(/decoder_model_merged\.onnx: not a readable ONNX model \(.+\); the file is truncated or corrupt, re-export the model with `mllm export`/);
  });

  it('refuses a file that is not ONNX at all', async () => {
    const dir = tampered((d) => writeFileSync(join(d, ENCODER), 'this is not a model\n'.repeat(50)));
    await expect(OnnxMultimodalModel.load(dir)).rejects.toThrow(/vision_encoder\.onnx: not (a readable ONNX model|an ONNX model)/);
  });

  it('refuses swapped encoder and decoder files, saying they look swapped', async () => {
    const dir = tampered((d) => {
      renameSync(join(d, ENCODER), join(d, 'onnx', 'tmp.onnx'));
      renameSync(join(d, DECODER), join(d, ENCODER));
      renameSync(join(d, 'onnx', 'tmp.onnx'), join(d, DECODER));
    });
    await expect(OnnxMultimodalModel.load(dir)).rejects.toThrow(
      /vision_encoder\.onnx: has no input "pixel_values" \(its inputs: inputs_embeds, attention_mask, position_ids, past_key_values\.0\.key, .*\); it takes the decoder's inputs: mllm\.json files\.visionEncoder and files\.decoder are swapped/,
    );
  });

  it('refuses a foreign .onnx graph in place of the vision encoder', async () => {
    const g = new GraphBuilder('foreign');
    g.output(g.op('Relu', [g.input('x', 'float32', ['n', 4])]), 'y', 'float32', ['n', 4]);
    const dir = tampered((d) => writeFileSync(join(d, ENCODER), g.serialize()));
    await expect(OnnxMultimodalModel.load(dir)).rejects.toThrow(/vision_encoder\.onnx: has no input "pixel_values" \(its inputs: x\); not a graph of an `mllm export` folder; re-export/);
  });

  it('refuses a graph with the right signature that onnxruntime cannot load, with its reason', async () => {
    const g = new GraphBuilder('embed_tokens');
    const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
    g.output(g.op('NoSuchOperator', [ids]), 'inputs_embeds', 'float32', ['batch_size', 'sequence_length', 16]);
    const dir = tampered((d) => writeFileSync(join(d, EMBED), g.serialize()));
    await expect(OnnxMultimodalModel.load(dir)).rejects.toThrow(/embed_tokens\.onnx: onnxruntime cannot load it \(.*NoSuchOperator.*\); the file is corrupt or not from `mllm export`/);
  });

  it('names the graph when onnxruntime fails at run time, or gives a shape mllm.json does not describe', async () => {
    // a table 17 wide behind a symbolic width: load cannot see it, the first answer does (reading
    // every id's row, [1, V, D], once)
    const wide = new GraphBuilder('embed_tokens');
    const table = wide.floatTensor('table', new Float32Array(VOCAB * 17), [VOCAB, 17]);
    wide.output(wide.op('Gather', [table, wide.input('input_ids', 'int64', ['batch_size', 'sequence_length'])], { axis: { int: 0 } }), 'inputs_embeds', 'float32', ['batch_size', 'sequence_length', 'hidden']);
    const dir = tampered((d) => writeFileSync(join(d, EMBED), wide.serialize()));
    await expect(loadAndAnswer(dir)).rejects.toThrow(/embed_tokens\.onnx: output "inputs_embeds" is \[1, 24, 17\] where mllm\.json makes it \[1, 24, 16\]/);

    // a Reshape to one fixed prompt length: onnxruntime itself refuses the 8-token prompts
    const fixed = new GraphBuilder('embed_tokens');
    const rows = fixed.op('Gather', [fixed.floatTensor('table', new Float32Array(VOCAB * 16), [VOCAB, 16]), fixed.input('input_ids', 'int64', ['batch_size', 'sequence_length'])], { axis: { int: 0 } });
    fixed.output(fixed.op('Reshape', [rows, fixed.constInt64([1, 5, 16])]), 'inputs_embeds', 'float32', ['batch_size', 'sequence_length', 16]);
    const dir2 = tampered((d) => writeFileSync(join(d, EMBED), fixed.serialize()));
    const error = await loadAndAnswer(dir2).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('OnnxModelError');
    expect((error as Error).message).toMatch(/embed_tokens\.onnx: onnxruntime failed to run it \(.*Reshape.*\); the graph does not fit mllm\.json, re-export the model with `mllm export`$/);
  });
});

describe('an edited mllm.json', () => {
  // each field that changes answers when wrong, with what the graphs hold
  it.each([
    ['image.tokensPerImage', (m: any) => (m.image.tokensPerImage = 5), /field "image\.tokensPerImage" is 5 but \S*vision_encoder\.onnx: output "image_features" has 4 there \(shape \[batch_size, 4, hidden_size\]\)/],
    ['llm.dim', (m: any) => (m.llm.dim = 12), /field "llm\.dim" is 12 but \S*embed_tokens\.onnx: output "inputs_embeds" has 16 there/],
    ['llm.vocabSize', (m: any) => (m.llm.vocabSize = 30), /field "llm\.vocabSize" is 30 but \S*decoder_model_merged\.onnx: output "logits" has 24 there/],
    ['image.size', (m: any) => (m.image.size = 16), /field "image\.size" is 16 but \S*vision_encoder\.onnx: input "pixel_values" has 8 there \(shape \[batch_size, 3, 8, 8\]\)/],
    ['image.channels', (m: any) => Object.assign(m.image, { channels: 1, mean: [0.5], std: [0.5] }), /field "image\.channels" is 1 but \S*vision_encoder\.onnx: input "pixel_values" has 3 there/],
    ['llm.kvHeads', (m: any) => (m.llm.kvHeads = 4), /field "llm\.kvHeads" is 4 but \S*decoder_model_merged\.onnx: input "past_key_values\.0\.key" has 2 there/],
    ['llm.headDim', (m: any) => (m.llm.headDim = 8), /field "llm\.headDim" is 8 but \S*decoder_model_merged\.onnx: input "past_key_values\.0\.key" has 4 there \(shape \[batch_size, 2, past_sequence_length, 4\]\)/],
    ['llm.layers', (m: any) => (m.llm.layers = 3), /field "llm\.layers" is 3 but \S*decoder_model_merged\.onnx has 2 layers of past_key_values/],
    ['fusion', (m: any) => (m.fusion = { type: 'visual-expert' }), /field "fusion" says visual-expert but the decoder has no image_token_mask input/],
  ])('refuses %s that differs from the graphs, naming the field and the graph value', async (_field, edit, message) => {
    const dir = withManifest(edit);
    await expect(OnnxMultimodalModel.load(dir)).rejects.toThrow(message);
    await expect(OnnxMultimodalModel.load(dir)).rejects.toThrow(/mllm\.json was edited or the files come from different exports, re-export the model with `mllm export`$/);
  });

  it.each([
    ['image.size 100000 (a 28.6 GB pixel buffer)', (m: any) => (m.image.size = 100000), 'field "image.size" must be at most 4096 (got 100000)'],
    ['std 0', (m: any) => (m.image.std = [0.5, 0, 0.5]), 'field "image.std[1]" must be > 0 (pixels are divided by it) (got 0)'],
    ['a NaN-like mean', (m: any) => (m.image.mean = [0.5, '0.5', 0.5]), 'field "image.mean[1]" must be a number (got "0.5")'],
    ['std of the wrong length', (m: any) => (m.image.std = [0.5]), 'field "image.std" must hold image.channels (3) numbers, has 1'],
    ['tokensPerImage 0', (m: any) => (m.image.tokensPerImage = 0), 'field "image.tokensPerImage" must be at least 1 (got 0)'],
    ['tokensPerImage 1e9', (m: any) => (m.image.tokensPerImage = 1e9), 'field "image.tokensPerImage" must be at most 16384 (got 1000000000)'],
    ['a negative dim', (m: any) => (m.llm.dim = -16), 'field "llm.dim" must be at least 1 (got -16)'],
    ['a fractional layer count', (m: any) => (m.llm.layers = 1.5), 'field "llm.layers" must be an integer (got 1.5)'],
    ['vocabSize 1e12', (m: any) => (m.llm.vocabSize = 1e12), 'field "llm.vocabSize" must be at most 1048576 (got 1000000000000)'],
    ['maxPositions 0', (m: any) => (m.llm.maxPositions = 0), 'field "llm.maxPositions" must be at least 1 (got 0)'],
    ['an image token outside the vocabulary', (m: any) => (m.special.imageTokenId = 99), 'field "special.imageTokenId" is 99, outside the vocabulary (llm.vocabSize 24) (got 99)'],
    ['an unknown fusion type', (m: any) => (m.fusion = { type: 'magic' }), 'field "fusion.type" must be "adapter-prompts", "visual-expert" or "gated-cross-attention" when present'],
    ['an unknown weight format', (m: any) => (m.weights = 'int4'), 'field "weights" must be "fp32" or "fp16" or "int8" (got "int4")'],
    ['a missing file entry', (m: any) => delete m.files.embedTokens, 'field "files.embedTokens" must be a string (got missing)'],
  ])('refuses %s by its JSON path before allocating anything', async (_name, edit, message) => {
    await expect(OnnxMultimodalModel.load(withManifest(edit))).rejects.toThrow(message);
  });

  it('lists every wrong field at once', async () => {
    const dir = withManifest((m) => Object.assign(m.image, { size: 100000, std: [0, 0.5, 0.5] }));
    await expect(OnnxMultimodalModel.load(dir)).rejects.toThrow(/field "image\.size" must be at most 4096 \(got 100000\); field "image\.std\[0\]" must be > 0/);
  });

  it('refuses mllm.json that is not JSON, or not an object', async () => {
    await expect(OnnxMultimodalModel.load(tampered((d) => writeFileSync(join(d, 'mllm.json'), '{"format": "mllm-onnx",')))).rejects.toThrow(/mllm\.json: not valid JSON/);
    await expect(OnnxMultimodalModel.load(tampered((d) => writeFileSync(join(d, 'mllm.json'), '[1, 2]')))).rejects.toThrow(/mllm\.json: not a JSON object/);
  });
});

describe('a valid export', () => {
  it('loads from a copy and answers exactly as the original folder and the tfjs model', async () => {
    const copy = tampered(() => {});
    const answers = await loadAndAnswer(copy);
    expect(answers).toEqual(await loadAndAnswer(original));
    expect(answers).toEqual(model.generate(prompts.map((p) => ({ ...p, lossMask: p.ids.map(() => 0) })), greedy));
    // the prompts differ in one word: equal answers above are not one constant answer
    expect(answers[0]).not.toEqual(answers[1]);
  });

  it('a rewritten but equal mllm.json (other key order, whitespace) still loads', async () => {
    const dir = withManifest((m) => {
      const { files, ...rest } = m;
      for (const key of Object.keys(m)) delete m[key];
      Object.assign(m, { files, ...rest });
    });
    expect(await loadAndAnswer(dir)).toEqual(await loadAndAnswer(original));
  });
});
