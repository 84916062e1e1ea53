#!/usr/bin/env node
/**
 * Cross-check of the fixture chat templates against Python: every template renders three
 * conversations (plain, opened by a system turn, and a question with the generation prompt)
 * through HfTokenizer.render (@huggingface/jinja) and through Python's jinja2 set up as
 * transformers sets it up (python-render-check.py); prints the renders that differ.
 *
 *   npx nx run @mllm/tokenizer:build
 *   node packages/tokenizer/scripts/python-render-check.mjs     (needs python3 with jinja2)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HfTokenizer } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', 'src', 'fixtures', 'chat-templates');
const FAMILIES = {
  'llama-3-8b-instruct': ['<|begin_of_text|>', '<|eot_id|>'],
  'llama-3.1-8b-instruct': ['<|begin_of_text|>', '<|eot_id|>'],
  'llama-3.2-1b-instruct': ['<|begin_of_text|>', '<|eot_id|>'],
  'qwen2.5-instruct': [null, '<|im_end|>'],
  qwen3: [null, '<|im_end|>'],
  'mistral-7b-instruct-v0.3': ['<s>', '</s>'],
  'gemma-2-it': ['<bos>', '<eos>'],
  'gemma-3-it': ['<bos>', '<eos>'],
  'smollm2-instruct': ['<|im_start|>', '<|im_end|>'],
  'phi-3-mini-instruct': ['<s>', '<|endoftext|>'],
  'phi-3.5-mini-instruct': ['<s>', '<|endoftext|>'],
};
const SYSTEM = { from: 'system', value: 'You answer briefly.' };
const CHAT = [
  { from: 'human', value: '<image>\nWhat colour is the square?' },
  { from: 'gpt', value: 'The square is red.' },
  { from: 'human', value: 'And the circle?' },
  { from: 'gpt', value: 'Blue.' },
];
const CASES = [['plain', CHAT, false], ['system', [SYSTEM, ...CHAT], false], ['asked', [SYSTEM, ...CHAT.slice(0, 3)], true]];
const ROLE = { human: 'user', gpt: 'assistant', system: 'system' };
const VARIABLES = { date_string: '26 Jul 2024' };

const jobs = [];
const ours = [];
for (const [name, [bos, eos]] of Object.entries(FAMILIES)) {
  const specials = [...new Set([bos, eos].filter(Boolean))];
  const tokenizer = {
    version: '1.0',
    added_tokens: specials.map((content, i) => ({ id: 1 + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' },
  };
  const config = { bos_token: bos, eos_token: eos, chat_template: readFileSync(join(fixtures, `${name}.jinja`), 'utf8') };
  const tok = HfTokenizer.fromJson(tokenizer, config, { templateVariables: VARIABLES });
  for (const [label, conversation, addGenerationPrompt] of CASES) {
    let render;
    try {
      render = tok.render(conversation, { addGenerationPrompt });
    } catch (error) {
      render = `ERROR ${error.message}`;
    }
    ours.push({ name: `${name} (${label})`, render });
    const messages = conversation.map((t) => ({ role: ROLE[t.from], content: t.value }));
    jobs.push(JSON.stringify({ template: name, messages, add_generation_prompt: addGenerationPrompt, bos_token: bos ?? '', eos_token: eos, ...VARIABLES }));
  }
}
const python = execFileSync('python3', [join(here, 'python-render-check.py')], { input: `${jobs.join('\n')}\n`, encoding: 'utf8' })
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line));
let differ = 0;
ours.forEach(({ name, render }, i) => {
  const reference = python[i];
  // both raising counts as agreement: the messages come from the template's raise_exception
  if (render === reference || (render.startsWith('ERROR') && reference.startsWith('ERROR'))) return;
  differ++;
  console.log(`${name}\n  ours:   ${JSON.stringify(render)}\n  python: ${JSON.stringify(reference)}`);
});
console.log(`${ours.length} renders, ${differ} differ from Python's jinja2`);
process.exitCode = differ === 0 ? 0 : 1;
