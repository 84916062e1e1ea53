#!/usr/bin/env node
/**
 * Load time and memory of an HF tokenizer the size of a released LLM's, and the cost of one
 * conversation's ids and loss mask through its chat template.
 *
 *   npx nx run @mllm/tokenizer:build
 *   node --expose-gc packages/tokenizer/scripts/measure-load.mjs [DIR]
 *
 * DIR is an HF folder (tokenizer.json + tokenizer_config.json, e.g. a downloaded Qwen3 or
 * Llama 3); without it a Qwen-sized byte-level BPE is written to a temporary folder: 151,643
 * tokens (256 bytes, 65,536 byte pairs, 85,851 triples) with their 151,387 merges, plus Qwen's
 * three ChatML special tokens and a ChatML template. Prints one JSON line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HfTokenizer, applyChatTemplate } from '../dist/index.js';

const LOADS = 5;
const CONVERSATIONS = 50;

function bytesToUnicode() {
  const printable = (b) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCharCode(printable(b) ? b : 256 + extra++));
}

function writeQwenSized(dir) {
  const bytes = bytesToUnicode();
  const vocab = {};
  const merges = [];
  let id = 0;
  for (const b of bytes) vocab[b] = id++;
  for (const a of bytes) for (const b of bytes) (vocab[a + b] = id++), merges.push(`${a} ${b}`);
  outer: for (const a of bytes) {
    for (const b of bytes) {
      for (const c of bytes) {
        if (id === 151_643) break outer;
        vocab[a + b + c] = id++;
        merges.push(`${a + b} ${c}`);
      }
    }
  }
  const specials = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, i) => ({ id: id + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
  };
  const template = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  const config = { bos_token: null, eos_token: '<|im_end|>', pad_token: '<|endoftext|>', unk_token: null, chat_template: template };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes) => Math.round(bytes / 2 ** 20);
const gc = () => globalThis.gc?.();

const given = process.argv[2];
const dir = given ?? mkdtempSync(join(tmpdir(), 'mllm-large-vocab-'));
if (!given) writeQwenSized(dir);

gc();
const before = process.memoryUsage();
const loadMs = [];
let tok;
for (let i = 0; i < LOADS; i++) {
  tok = undefined;
  gc();
  const t0 = performance.now();
  tok = await HfTokenizer.load(dir);
  loadMs.push(performance.now() - t0);
}
gc();
const after = process.memoryUsage();

const conversation = [
  { from: 'system', value: 'You describe photographs briefly and accurately.' },
  { from: 'human', value: '<image>\nWhat is in the picture?' },
  { from: 'gpt', value: 'A red bicycle leaning against a stone wall, with ivy growing over the top of the wall.' },
  { from: 'human', value: 'What colour is the wall?' },
  { from: 'gpt', value: 'Grey stone, partly covered in green ivy.' },
];
const templateMs = [];
let tokens = 0;
for (let i = 0; i < CONVERSATIONS; i++) {
  const t0 = performance.now();
  tokens = applyChatTemplate(tok, conversation).ids.length;
  templateMs.push(performance.now() - t0);
}
if (!given) rmSync(dir, { recursive: true, force: true });

console.log(
  JSON.stringify({
    tokenizer: given ?? 'synthetic Qwen-sized byte-level BPE',
    vocabSize: tok.vocabSize,
    loads: LOADS,
    loadMsMedian: Math.round(median(loadMs)),
    loadMsFirst: Math.round(loadMs[0]),
    heapUsedMb: mb(after.heapUsed - before.heapUsed),
    rssDeltaMb: mb(after.rss - before.rss),
    rssMb: mb(after.rss),
    gcExposed: typeof globalThis.gc === 'function',
    conversationTokens: tokens,
    templatedMsMedian: Number(median(templateMs).toFixed(2)),
  }),
);
