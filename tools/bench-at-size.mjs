#!/usr/bin/env node
/**
 * Training at the size of released checkpoints, measured: writes an HF Llama folder with
 * SmolLM2-135M's config.json (random weights; `--layers` cuts or grows its depth) and a
 * tokenizer of its 49152-id vocabulary, a run config with a SigLIP-base-patch16-224-sized
 * encoder and an mlp connector, then runs one stage under `/usr/bin/time -v` and prints the
 * stage's throughput from report.json beside the process's peak RSS and the size estimate.
 *
 *   node tools/bench-at-size.mjs --stage align|instruct|lora [--layers 30] [--batch 1] [--steps 3] [--backend wasm]
 *
 * Needs a build (`npx nx run-many -t build`). Folders go to $TMPDIR/mllm-at-size.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    stage: { type: 'string', default: 'align' },
    layers: { type: 'string', default: '30' },
    dim: { type: 'string', default: '576' },
    batch: { type: 'string', default: '1' },
    steps: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'wasm' },
    'encoder-layers': { type: 'string', default: '12' },
    extra: { type: 'string', default: '{}' },
  },
});
const layers = Number(args.layers);
const dim = Number(args.dim);
const work = join(tmpdir(), 'mllm-at-size');
mkdirSync(work, { recursive: true });

/** SmolLM2-135M's config.json (HuggingFaceTB/SmolLM2-135M), depth and width adjustable. */
function smolLmConfig() {
  const heads = dim === 576 ? 9 : dim / 64;
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: dim,
    intermediate_size: dim === 576 ? 1536 : Math.round((dim * 8) / 3 / 64) * 64,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: dim === 576 ? 3 : heads / 3,
    vocab_size: 49152,
    rms_norm_eps: 1e-5,
    rope_theta: 100000,
    hidden_act: 'silu',
    tie_word_embeddings: true,
    max_position_embeddings: 8192,
    torch_dtype: 'float32',
  };
}

/**
 * A Metaspace BPE whose merges make each word of the Shapes world one token (as a real
 * vocabulary makes common words), padded with unused ids to the vocabulary's 49152.
 */
async function tokenizerFiles(vocabSize) {
  const specials = ['<unk>', '<s>', '</s>'];
  const chars = ['▁', ...Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)), '\n'];
  const vocab = [...specials, ...chars];
  const { ShapesWorld } = await import('@mllm/data');
  const words = new Set(new ShapesWorld({ seed: 0, imageSize: 8, sizes: { train: 200, val: 1, test: 1 } }).corpus().flatMap((line) => line.split(/\s+/)));
  const merges = [];
  const known = new Set(vocab);
  for (const word of [...words].filter((w) => /^[\x21-\x7e]+$/.test(w))) {
    let piece = '▁';
    for (const ch of word) {
      const next = piece + ch;
      if (!known.has(next)) {
        merges.push(`${piece} ${ch}`);
        vocab.push(next);
        known.add(next);
      }
      piece = next;
    }
  }
  for (let i = 0; vocab.length < vocabSize; i++) vocab.push(`<unused_${i}>`);
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    post_processor: null,
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: false, ignore_merges: false, vocab: Object.fromEntries(vocab.map((t, i) => [t, i])), merges },
  };
  const config = {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    pad_token: null,
    model_max_length: 8192,
    tokenizer_class: 'LlamaTokenizer',
    chat_template:
      "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %}",
  };
  return { 'tokenizer.json': JSON.stringify(tokenizer), 'tokenizer_config.json': JSON.stringify(config) };
}

async function writeLlmFolder(dir) {
  if (existsSync(join(dir, 'config.json'))) return;
  const tf = await import('@tensorflow/tfjs');
  const { saveHfFolder } = await import('@mllm/core');
  const c = smolLmConfig();
  const d = c.hidden_size;
  const dh = d / c.num_attention_heads;
  const kv = c.num_key_value_heads * dh;
  const ff = c.intermediate_size;
  const normal = (shape) => tf.randomNormal(shape, 0, 0.02, 'float32', 7);
  const t = { 'model.embed_tokens.weight': normal([c.vocab_size, d]), 'model.norm.weight': tf.ones([d]) };
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    Object.assign(t, {
      [`${p}input_layernorm.weight`]: tf.ones([d]),
      [`${p}post_attention_layernorm.weight`]: tf.ones([d]),
      [`${p}self_attn.q_proj.weight`]: normal([d, d]),
      [`${p}self_attn.k_proj.weight`]: normal([kv, d]),
      [`${p}self_attn.v_proj.weight`]: normal([kv, d]),
      [`${p}self_attn.o_proj.weight`]: normal([d, d]),
      [`${p}mlp.gate_proj.weight`]: normal([ff, d]),
      [`${p}mlp.up_proj.weight`]: normal([ff, d]),
      [`${p}mlp.down_proj.weight`]: normal([d, ff]),
    });
  }
  await saveHfFolder(dir, c, t);
  for (const [name, text] of Object.entries(await tokenizerFiles(c.vocab_size))) writeFileSync(join(dir, name), text);
}

const llmDir = join(work, `smollm2-words-d${dim}-l${layers}`);
await writeLlmFolder(llmDir);

const stage = { align: { type: 'align' }, instruct: { type: 'instruct' }, lora: { type: 'instruct', lora: { rank: 8, alpha: 16 } } }[args.stage];
if (!stage) throw new Error(`--stage ${args.stage}: one of align, instruct, lora`);
const config = {
  seed: 0,
  encoder: { type: 'vit', variant: 'siglip', includeCls: false, imageSize: 224, patchSize: 16, dim: 768, layers: Number(args['encoder-layers']), heads: 12, mlpHidden: 3072 },
  connector: { type: 'mlp' },
  llm: { type: 'causal', from: `hf:${llmDir}` },
  data: { train: 64, val: 4, test: 2 },
  stages: [{ ...stage, steps: Number(args.steps), batchSize: Number(args.batch), lr: 1e-4, warmup: 1, evalEvery: 0, checkpointEvery: 0, ...JSON.parse(args.extra) }],
  eval: { scenes: 1, popePerImage: 2, batchSize: 1, maxNewTokens: 2 },
};
const name = `${args.stage}-d${dim}-l${layers}-b${args.batch}-${args.backend}`;
const configFile = join(work, `${name}.json`);
const out = join(work, `run-${name}`);
writeFileSync(configFile, JSON.stringify(config, null, 2));
let timing = '';
try {
  execFileSync('/usr/bin/time', ['-v', 'node', join(root, 'apps/cli/bin/mllm.js'), 'run', configFile, '--out', out, '--force', '--backend', args.backend], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
} catch (e) {
  timing = String(e.stderr ?? e);
  console.error(timing.slice(-3000));
  process.exit(1);
}
const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
const s = report.stages[0];
const gib = (b) => (b / 1024 ** 3).toFixed(2);
console.log(
  JSON.stringify({
    name,
    parameters: report.parameters,
    trainable: s.trainableParameters,
    secondsPerStep: s.throughput.secondsPerStep,
    tokensPerSecond: s.throughput.tokensPerSecond,
    imagesPerSecond: s.throughput.imagesPerSecond,
    peakRssGiB: gib(s.throughput.peakRssBytes),
    peakTensorGiB: gib(s.throughput.peakTensorBytes),
    wasmHeapGiB: s.throughput.wasmHeapBytes && gib(s.throughput.wasmHeapBytes),
    estimate: report.memoryEstimate?.stages?.[0]?.estimatedBytes && gib(report.memoryEstimate.stages[0].estimatedBytes),
    limit: report.memoryEstimate && `${gib(report.memoryEstimate.limitBytes)} (${report.memoryEstimate.limitSource})`,
  }),
);
